#pragma once
// Checkpoints of a retrain run: network weights (state_dict names), SGD momentum, torch's RNG
// state, the position in the epoch with its partial statistics, the per-epoch history and the
// best-validation weights. A fingerprint of the settings guards against resuming another run.
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>

#include <string>
#include <vector>

#include "dnas/genotype/genotype.h"
#include "dnas/loop/batch_stats.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/store/module_state.h"
#include "dnas/train/train_config.h"
#include "dnas/train/trainer.h"

namespace dnas::train {

struct TrainProgress : loop::LoopPosition {
  loop::BatchStats partial;  // statistics of the current epoch's finished steps
  std::vector<TrainEpoch> history;
  double best_val_acc = 0.0;
  int64_t best_epoch = 0;
  store::NamedTensors best_weights;  // train.select = best_val only
  bool finished = false;
};

// The settings that must not change across a resume, as text.
std::string train_fingerprint(const TrainConfig& config, const genotype::Genotype& genotype);

void save_train_checkpoint(const std::string& path, const TrainConfig& config, const genotype::Genotype& genotype,
                           const torch::nn::Module& net, torch::optim::SGD& sgd, const TrainProgress& progress);

// Restores net, sgd and torch's RNG; throws dnas::Error naming the file when it is missing,
// damaged or written by a run with other settings.
TrainProgress load_train_checkpoint(const std::string& path, const TrainConfig& config,
                                    const genotype::Genotype& genotype, torch::nn::Module& net, torch::optim::SGD& sgd);

}  // namespace dnas::train
