#pragma once
// Shared tiny shapes for the search tests: 3 cells, C=4, 2 steps, 8x8 RGB batches.
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "dnas/ops/op_names.h"
#include "dnas/search/search_config.h"
#include "dnas/search/weight_trainer.h"
#include "dnas/supernet/supernet.h"

namespace dnas::testing {

inline supernet::SupernetConfig tiny_supernet_config(const std::string& op_set = "darts8") {
  supernet::SupernetConfig cfg;
  cfg.channels = 4;
  cfg.layers = 3;
  cfg.steps = 2;
  cfg.normal_ops = ops::op_set(op_set, ops::CellType::Normal);
  cfg.reduce_ops = ops::op_set(op_set, ops::CellType::Reduce);
  return cfg;
}

// Random images [n, 3, 8, 8] and labels [n] in [0, 10).
inline search::TensorBatch random_batch(int64_t n, torch::Dtype dtype = torch::kFloat32) {
  return {torch::randn({n, 3, 8, 8}, torch::TensorOptions().dtype(dtype)), torch::randint(0, 10, {n}, torch::kLong)};
}

// Adam's first step from p0 with gradient g, by hand: the bias-corrected moments are g' and g'^2,
// so p1 = p0 - lr g' / (|g'| + eps) with g' = g + weight_decay p0 (coupled decay, as
// torch::optim::Adam; eps 1e-8 as make_arch_optimizer).
inline torch::Tensor adam_first_step(const torch::Tensor& p0, const torch::Tensor& g, const search::OptimConfig& o) {
  const auto d = g + o.arch_weight_decay * p0;
  return p0 - o.arch_lr * d / (d.abs() + 1e-8);
}

// WeightTrainer's first SGD step from w0, by hand: the momentum buffer starts as the gradient, so
// w1 = w0 - lr (c g + weight_decay w0), where c = grad_clip / (||g||_2 + 1e-6) when that is
// below 1 (global norm over every gradient, as clip_grad_norm_). Without Nesterov momentum (the
// default). Parameters without a gradient (undefined g) stay where they are.
inline std::vector<torch::Tensor> first_sgd_step(const std::vector<torch::Tensor>& w0,
                                                 const std::vector<torch::Tensor>& g, const search::WeightOptions& o) {
  double sq = 0.0;
  for (const auto& t : g)
    if (t.defined()) sq += t.to(torch::kDouble).pow(2).sum().item<double>();
  const double c = o.grad_clip > 0 ? std::min(1.0, o.grad_clip / (std::sqrt(sq) + 1e-6)) : 1.0;
  std::vector<torch::Tensor> w1;
  for (size_t i = 0; i < w0.size(); ++i)
    w1.push_back(g[i].defined() ? w0[i] - o.lr * (c * g[i] + o.weight_decay * w0[i]) : w0[i].clone());
  return w1;
}

// Detached copies of `params` that require grad: leaves for computing gradients by hand.
inline std::vector<torch::Tensor> leaf_copies(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone().requires_grad_());
  return out;
}

// d loss / d inputs by plain autograd. Where the graph does not reach an input: zeros, or an
// undefined tensor with zeros_for_unused = false (what an optimizer sees for an unused weight).
inline std::vector<torch::Tensor> grads_of(const torch::Tensor& loss, const std::vector<torch::Tensor>& inputs,
                                           bool zeros_for_unused = true) {
  auto g = torch::autograd::grad({loss}, inputs, {}, /*retain_graph=*/c10::nullopt, /*create_graph=*/false,
                                 /*allow_unused=*/true);
  for (size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined() && zeros_for_unused) g[i] = torch::zeros_like(inputs[i]);
  return g;
}

// Detached copies of a module's parameters (a snapshot to compare a step against).
inline std::vector<torch::Tensor> snapshot(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone());
  return out;
}

// Largest |a - b| over a list of tensors, relative to the largest |b| (0 when b is all zero).
inline double max_relative_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto d = a[i].detach().to(torch::kDouble) - b[i].detach().to(torch::kDouble);
    diff = std::max(diff, d.abs().max().item<double>());
    scale = std::max(scale, b[i].detach().abs().max().item<double>());
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace dnas::testing
