#pragma once
// Learning-rate schedules shared by the search and the retrain.
#include <cstdint>

namespace dnas::loop {

// Cosine annealing (docs/methods.md 1.4): lr_min + (lr0 - lr_min)(1 + cos(pi e / E)) / 2.
double cosine_lr(double lr0, double lr_min, int64_t epoch, int64_t epochs);

}  // namespace dnas::loop
