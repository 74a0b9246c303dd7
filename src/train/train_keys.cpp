#include "dnas/train/train_keys.h"

#include "dnas/loop/run_keys.h"

namespace dnas::train {

core::KeyTable train_keys(TrainConfig& c) {
  core::KeyTable t;
  auto& d = c.data;
  data::add_data_keys(t, d, "batch size");
  t.add("data.cutout", &d.cutout, "cutout square side (0 = off)").at_least(0);
  t.add("data.val_portion", &d.val_portion, "hold out this share of the training set for validation (0 = none)");
  t.add("data.test_limit", &d.test_limit, "test on only this many test images (0 = all)").at_least(0);
  t.add("data.stream", &d.stream,
        "imagenet, tiny_imagenet: decode the images from their files every epoch with the papers' transforms "
        "(ImageNet: random resized crop, flip, colour jitter; test: resize + centre crop) instead of holding "
        "them in memory");
  t.add("data.train_shards", &d.train_shards, "with data.stream: read the train split from `dnas pack` shards");
  t.add("data.loader_threads", &d.loader_threads, "with data.stream: decode + augmentation threads per rank")
      .at_least(1);
  t.add("data.prefetch", &d.prefetch, "with data.stream: batches prepared ahead of the step").at_least(1);
  t.add("data.shuffle_buffer", &d.shuffle_buffer, "with data.train_shards: samples held by the shuffle buffer")
      .at_least(1);
  auto& m = c.model;
  t.add("model.genotype", &m.genotype,
        "published name, Genotype(...) text, or a search's genotype.txt / output directory");
  t.add("model.channels", &m.channels, "initial channels C");
  t.add("model.layers", &m.layers, "number of cells L (reductions at L/3 and 2L/3)").at_least(3);
  t.add("model.auxiliary", &m.auxiliary, "auxiliary head on cell 2L/3");
  t.add("model.aux_weight", &m.aux_weight, "weight of the auxiliary loss").at_least(0);
  t.add("model.drop_path", &m.drop_path, "maximum drop-path rate (linear schedule from 0)");
  t.add("model.stem", &m.stem, "cifar | imagenet");
  t.add("model.channels_last", &m.channels_last,
        "NHWC activations and conv weights (false: NCHW; same results up to rounding)");
  t.add("model.target_params", &m.target_params,
        "millions of parameters (without aux); > 0 replaces model.channels by the C that matches")
      .at_least(0);
  t.add("model.genotype_epoch", &m.genotype_epoch,
        "with a search directory as model.genotype: its cell after this epoch (0 = final)")
      .at_least(0);
  auto& o = c.optim;
  t.add("train.epochs", &o.epochs, "epochs").at_least(1);
  t.add("train.lr", &o.lr, "initial SGD learning rate");
  t.add("train.lr_min", &o.lr_min, "final learning rate of the cosine schedule").at_least(0);
  t.add("train.schedule", &o.schedule, "cosine | exponential | linear_warmup");
  t.add("train.lr_gamma", &o.lr_gamma, "per-epoch factor of the exponential schedule");
  t.add("train.warmup_epochs", &o.warmup_epochs, "warm-up epochs of linear_warmup").at_least(0);
  t.add("train.momentum", &o.momentum, "SGD momentum").at_least(0);
  t.add("train.weight_decay", &o.weight_decay, "SGD weight decay").at_least(0);
  t.add("train.grad_clip", &o.grad_clip, "global gradient-norm clip (0 = off)").at_least(0);
  t.add("train.label_smoothing", &o.label_smoothing, "label smoothing eps (0 = off)");
  t.add("train.steps_per_epoch", &o.steps_per_epoch, "cap on steps per epoch (0 = full epoch)").at_least(0);
  t.add("train.select", &o.select, "final | best_val (needs data.val_portion > 0)");
  t.add("train.seed", &c.run.seed, "seed of weights, data order and augmentation");
  loop::add_run_keys(t, c.run);
  return t;
}

std::string config_text(const TrainConfig& config) {
  auto copy = config;
  return core::to_ini(train_keys(copy));
}

}  // namespace dnas::train
