#pragma once
// Learning rate of epoch e (0-based) of E under the retrain schedules of docs/methods.md 1.8.
#include <cstdint>

#include "dnas/train/train_config.h"

namespace dnas::train {

// cosine:        lr_min + (lr - lr_min)(1 + cos(pi e / E)) / 2          (DARTS CIFAR)
// exponential:   lr * gamma^e                                           (DARTS ImageNet)
// linear_warmup: lr (1 - e / E), times (e + 1) / W while e < W          (PC-DARTS ImageNet)
double learning_rate(const TrainOptim& optim, int64_t epoch);

}  // namespace dnas::train
