#include "dnas/search/milenas.h"

#include <torch/torch.h>

namespace dnas::search {

MilenasStrategy::MilenasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, double lambda,
                                 double arch_grad_clip)
    : darts_(1, net, optim), lambda_(lambda), arch_grad_clip_(arch_grad_clip) {}

std::vector<torch::Tensor> MilenasStrategy::mixed_level_gradient(WeightTrainer& w, const TensorBatch& train,
                                                                 const TensorBatch& val, BatchStats* val_stats) {
  auto g = darts_.first_order_gradient(w, train);  // both terms at the same w
  if (lambda_ != 0.0) {
    auto g_val = darts_.first_order_gradient(w, val, val_stats);
    for (size_t k = 0; k < g.size(); ++k) g[k] = g[k] + lambda_ * g_val[k];
  }
  return g;
}

StepResult MilenasStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  const auto& train = b.train;
  const auto& val = b.val;
  StepResult result;
  auto grads = mixed_level_gradient(w, train, val, &result.val);
  w.average(grads);
  auto& a = darts_.arch();
  a.optimizer->zero_grad();
  a.alpha_normal.mutable_grad() = grads[0];
  a.alpha_reduce.mutable_grad() = grads[1];
  // clip_grad_norm_ scales the .grad of the tensors it is given
  if (arch_grad_clip_ > 0) torch::nn::utils::clip_grad_norm_({a.alpha_normal, a.alpha_reduce}, arch_grad_clip_);
  a.optimizer->step();
  result.train = w.step(train, darts_.inference_mix());
  return result;
}

}  // namespace dnas::search
