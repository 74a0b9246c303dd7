#include "dnas/train/train_config.h"

#include "dnas/comm/device.h"
#include "dnas/core/error.h"
#include "dnas/ops/precision.h"
#include "dnas/train/train_keys.h"

namespace dnas::train {
namespace {

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) fail("invalid value for " + key, key, what);
}

}  // namespace

void validate(const TrainConfig& c) {
  auto copy = c;
  core::check_ranges(train_keys(copy), "retrain settings");  // finite values, each key's bounds
  require(c.data.val_portion >= 0 && c.data.val_portion < 1, "data.val_portion", "must be in [0, 1)");
  require(c.model.channels >= 2 && c.model.channels % 2 == 0, "model.channels", "must be even and >= 2");
  require(c.model.drop_path >= 0 && c.model.drop_path < 1, "model.drop_path", "must be in [0, 1)");
  require(c.model.stem == "cifar" || c.model.stem == "imagenet", "model.stem", "cifar | imagenet");
  require(c.optim.lr > 0, "train.lr", "must be > 0");
  require(c.optim.schedule == "cosine" || c.optim.schedule == "exponential" || c.optim.schedule == "linear_warmup",
          "train.schedule", "cosine | exponential | linear_warmup");
  require(c.optim.lr_gamma > 0 && c.optim.lr_gamma <= 1, "train.lr_gamma", "must be in (0, 1]");
  require(c.optim.label_smoothing >= 0 && c.optim.label_smoothing < 1, "train.label_smoothing", "must be in [0, 1)");
  require(c.optim.select == "final" || c.optim.select == "best_val", "train.select", "final | best_val");
  require(c.optim.select == "final" || c.data.val_portion > 0, "train.select",
          "best_val needs a validation split: set data.val_portion > 0 (the test set is never used to select)");
  if (c.data.stream) {
    require(c.data.dataset == "imagenet" || c.data.dataset == "tiny_imagenet", "data.stream",
            "streams imagenet and tiny_imagenet; the other datasets are held in memory (set it to false)");
    require(c.data.val_portion == 0, "data.val_portion", "a streamed retrain has no validation split: set 0");
    require(c.data.cutout == 0, "data.cutout", "the streamed transforms have no cutout: set 0");
  }
  require(c.data.train_shards.empty() || c.data.stream, "data.train_shards", "shards are read with data.stream = true");
  require(comm::is_device_spec(c.run.device), "run.device", "must be cpu, cuda or cuda:N");
  require(ops::parse_precision(c.run.precision, "run.precision") != ops::Precision::Fp16 ||
              c.run.device.rfind("cuda", 0) == 0,
          "run.precision", "fp16 needs run.device = cuda (on CPUs use bf16)");
}

}  // namespace dnas::train
