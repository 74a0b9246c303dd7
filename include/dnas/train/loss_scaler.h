#pragma once
// Dynamic loss scaling for fp16 training (CUDA): the loss is multiplied by a scale before the
// backward so that small gradients survive fp16; the gradients are divided by it again before
// clipping and the optimizer step. A step whose gradients hold an inf or NaN is skipped and the
// scale halved; after `growth_interval` good steps in a row the scale doubles.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace dnas::train {

class LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int64_t growth_interval = 2000);

  // loss * scale (loss itself when disabled).
  torch::Tensor scale(const torch::Tensor& loss) const;
  // Divides every defined gradient by the scale; false when any of them is not finite (the
  // caller skips the optimizer step). Always true when disabled.
  bool unscale(const std::vector<torch::Tensor>& params);
  // After a step: halves the scale when `finite` is false, grows it after enough good steps.
  void update(bool finite);

  bool enabled() const { return enabled_; }
  double current_scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_; }

 private:
  bool enabled_;
  double scale_;
  int64_t growth_interval_, good_steps_ = 0, skipped_ = 0;
};

}  // namespace dnas::train
