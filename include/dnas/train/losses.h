#pragma once
// Classification losses of the retrain protocol.
#include <torch/types.h>

namespace dnas::train {

// Mean cross-entropy against targets smoothed to (1 - eps) one-hot + eps / K.
// logits [N, K], labels [N] int64. eps = 0 is the plain cross-entropy.
torch::Tensor smoothed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, double eps);

}  // namespace dnas::train
