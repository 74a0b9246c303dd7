#include "dnas/loop/schedule.h"

#include <cmath>

namespace dnas::loop {

double cosine_lr(double lr0, double lr_min, int64_t epoch, int64_t epochs) {
  return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + std::cos(M_PI * epoch / epochs));
}

}  // namespace dnas::loop
