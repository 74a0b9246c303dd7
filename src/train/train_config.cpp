#include "dnas/train/train_config.h"

#include "dnas/comm/device.h"
#include "dnas/core/error.h"

namespace dnas::train {
namespace {

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) fail("invalid value for " + key, key, what);
}

}  // namespace

void validate(const TrainConfig& c) {
  require(c.data.batch_size >= 1, "data.batch_size", "must be >= 1");
  require(c.data.crop_padding >= 0, "data.crop_padding", "must be >= 0");
  require(c.data.cutout >= 0, "data.cutout", "must be >= 0 (0 = off)");
  require(c.data.limit >= 0 && c.data.test_limit >= 0, "data.limit", "must be >= 0 (0 = all images)");
  require(c.data.val_portion >= 0 && c.data.val_portion < 1, "data.val_portion", "must be in [0, 1)");
  require(c.model.channels >= 2 && c.model.channels % 2 == 0, "model.channels", "must be even and >= 2");
  require(c.model.layers >= 3, "model.layers", "must be >= 3 (reductions at L/3 and 2L/3)");
  require(c.model.aux_weight >= 0, "model.aux_weight", "must be >= 0");
  require(c.model.drop_path >= 0 && c.model.drop_path < 1, "model.drop_path", "must be in [0, 1)");
  require(c.model.stem == "cifar" || c.model.stem == "imagenet", "model.stem", "cifar | imagenet");
  require(c.model.target_params >= 0, "model.target_params", "must be >= 0 (millions of parameters; 0 = use model.channels)");
  require(c.model.genotype_epoch >= 0, "model.genotype_epoch", "must be >= 0 (0 = the search's final cell)");
  require(c.optim.epochs >= 1, "train.epochs", "must be >= 1");
  require(c.optim.lr > 0 && c.optim.lr_min >= 0, "train.lr", "must be > 0 (lr_min >= 0)");
  require(c.optim.schedule == "cosine" || c.optim.schedule == "exponential" || c.optim.schedule == "linear_warmup",
          "train.schedule", "cosine | exponential | linear_warmup");
  require(c.optim.lr_gamma > 0 && c.optim.lr_gamma <= 1, "train.lr_gamma", "must be in (0, 1]");
  require(c.optim.warmup_epochs >= 0, "train.warmup_epochs", "must be >= 0");
  require(c.optim.momentum >= 0 && c.optim.weight_decay >= 0 && c.optim.grad_clip >= 0, "train.momentum",
          "momentum, weight_decay and grad_clip must be >= 0");
  require(c.optim.label_smoothing >= 0 && c.optim.label_smoothing < 1, "train.label_smoothing", "must be in [0, 1)");
  require(c.optim.steps_per_epoch >= 0, "train.steps_per_epoch", "must be >= 0 (0 = full epoch)");
  require(c.optim.select == "final" || c.optim.select == "best_val", "train.select", "final | best_val");
  require(c.optim.select == "final" || c.data.val_portion > 0, "train.select",
          "best_val needs a validation split: set data.val_portion > 0 (the test set is never used to select)");
  require(c.run.threads >= 0 && c.run.stop_after_steps >= 0, "run.threads", "must be >= 0");
  require(comm::is_device_spec(c.run.device), "run.device", "must be cpu, cuda or cuda:N");
}

}  // namespace dnas::train
