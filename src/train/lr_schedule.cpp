#include "dnas/train/lr_schedule.h"

#include <cmath>

#include "dnas/loop/schedule.h"

namespace dnas::train {

double learning_rate(const TrainOptim& o, int64_t epoch) {
  const double e = static_cast<double>(epoch), n = static_cast<double>(o.epochs);
  if (o.schedule == "exponential") return o.lr * std::pow(o.lr_gamma, e);
  if (o.schedule == "linear_warmup") {
    double lr = o.lr * (1.0 - e / n);
    if (epoch < o.warmup_epochs) lr *= (e + 1.0) / static_cast<double>(o.warmup_epochs);
    return lr;
  }
  return loop::cosine_lr(o.lr, o.lr_min, epoch, o.epochs);
}

}  // namespace dnas::train
