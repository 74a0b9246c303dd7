#pragma once
// Classification losses of the retrain protocol, and top-k counts.
#include <torch/types.h>

#include <cstdint>

namespace dnas::train {

// Mean cross-entropy against targets smoothed to (1 - eps) one-hot + eps / K.
// logits [N, K], labels [N] int64. eps = 0 is the plain cross-entropy.
torch::Tensor smoothed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, double eps);

// Rows whose label is among the k largest logits (among all of them when k >= K): top-k accuracy
// counts. logits [N, K], labels [N] int64.
int64_t top_k_correct(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k);

}  // namespace dnas::train
