#pragma once
// Every setting of a retrain run (docs/methods.md 1.8), with the DARTS CIFAR protocol as defaults.
// The cli module fills it from an INI file plus overrides (keys in comments: section.key).
#include <cstdint>
#include <string>

#include "dnas/data/data_settings.h"
#include "dnas/loop/run_settings.h"

namespace dnas::train {

struct TrainData : data::DataSettings {
  TrainData() { batch_size = 96; }
  int64_t cutout = 16;       // data.cutout: square side (0 = off)
  double val_portion = 0.0;  // data.val_portion: hold out this share of train as validation
  int64_t test_limit = 0;    // data.test_limit: evaluate on this many test images (0 = all)
  // Streaming (imagenet, tiny_imagenet): images decoded from their files every epoch by the
  // threaded loader, with the papers' transforms (data/image_augment.h), instead of held in memory.
  bool stream = false;             // data.stream
  std::string train_shards;        // data.train_shards: `dnas pack` prefix of the train split ("" = the folder)
  int64_t loader_threads = 4;      // data.loader_threads: decode + augmentation threads per rank
  int64_t prefetch = 4;            // data.prefetch: batches prepared ahead of the step
  int64_t shuffle_buffer = 10000;  // data.shuffle_buffer: samples of the shards' shuffle buffer
};

struct TrainModel {
  std::string genotype = "DARTS_V2";  // model.genotype: text, published name, or a file/dir (genotype.txt)
  int64_t channels = 36;              // model.channels
  int64_t layers = 20;                // model.layers
  bool auxiliary = true;              // model.auxiliary
  double aux_weight = 0.4;            // model.aux_weight: loss = CE + aux_weight * CE_aux
  double drop_path = 0.2;             // model.drop_path: p_max of the linear drop-path schedule
  std::string stem = "cifar";         // model.stem: cifar | imagenet
  bool channels_last = true;          // model.channels_last: NHWC activations and conv weights (faster on CPU)
  double target_params = 0;           // model.target_params: millions; > 0 picks the C that matches (SC protocol)
  int64_t genotype_epoch = 0;  // model.genotype_epoch: with a search directory, its cell after this epoch (0 = final)
};

struct TrainOptim {
  int64_t epochs = 600;             // train.epochs
  double lr = 0.025;                // train.lr
  double lr_min = 0.0;              // train.lr_min (cosine)
  std::string schedule = "cosine";  // train.schedule: cosine | exponential (DARTS ImageNet) | linear_warmup (PC-DARTS)
  double lr_gamma = 0.97;           // train.lr_gamma: per-epoch factor of `exponential`
  int64_t warmup_epochs = 5;        // train.warmup_epochs of `linear_warmup`
  double momentum = 0.9;            // train.momentum
  double weight_decay = 3e-4;       // train.weight_decay
  double grad_clip = 5.0;           // train.grad_clip (global norm, 0 = off)
  double label_smoothing = 0.0;     // train.label_smoothing (0.1 in the DARTS ImageNet recipe)
  int64_t steps_per_epoch = 0;      // train.steps_per_epoch: cap (0 = full epoch)
  std::string select = "final";     // train.select: final | best_val (needs data.val_portion > 0)
};

struct TrainRun : loop::RunSettings {
  TrainRun() { out_dir = "runs/train"; }  // metrics.csv, result.txt, checkpoint.h5
};

struct TrainConfig {
  TrainData data;
  TrainModel model;
  TrainOptim optim;
  TrainRun run;
};

// Checks ranges and names; throws dnas::Error naming the key.
void validate(const TrainConfig& config);

}  // namespace dnas::train
