#pragma once
// Drop-path of docs/methods.md 1.8 (training only): each sample's path is kept with probability
// 1 - p and rescaled by 1 / (1 - p), so its expectation is unchanged.
#include <torch/types.h>

namespace dnas::eval {

// x [N, ...] -> x * mask / (1 - p), mask [N, 1, ...] ~ Bernoulli(1 - p) from torch's default
// generator. p = 0 returns x itself.
torch::Tensor drop_path(const torch::Tensor& x, double drop_prob);

// The factors mask / (1 - p) of drop_path for a batch like x: [N, 1, ..., 1] in x's dtype, drawn
// as drop_path draws them; undefined for p = 0.
torch::Tensor drop_path_factors(const torch::Tensor& x, double drop_prob);

// Linear schedule p_e = p_max * e / E (epoch e 0-based of E).
double drop_path_rate(double p_max, int64_t epoch, int64_t epochs);

}  // namespace dnas::eval
