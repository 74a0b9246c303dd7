#pragma once
// Gradient clipping and one SGD step, with the numbers of torch::nn::utils::clip_grad_norm_
// followed by torch::optim::SGD::step(), in one loop over each parameter's elements instead of
// about six tensor operations per parameter (their dispatch dominates at small shapes).
#include <torch/optim/sgd.h>

namespace dnas::optim {

// Scales the gradients of `sgd`'s parameters to a total 2-norm of at most `max_norm` (0: no
// clipping; the gradients are changed in place, as clip_grad_norm_ does), then applies one step
// of `sgd` with its group options (lr, momentum, dampening, weight decay, Nesterov). Momentum
// buffers live in `sgd.state()` as SGD::step() keeps them, so checkpoints are unchanged.
// Parameters without a gradient are skipped. Float32 CPU parameters take the fused loop; any
// other parameter takes libtorch's own operations (same numbers).
void clip_and_step(torch::optim::SGD& sgd, double max_norm);

}  // namespace dnas::optim
