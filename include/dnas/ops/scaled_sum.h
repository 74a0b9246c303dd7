#pragma once
// The sum of a cell node's inputs, each scaled per sample (drop-path), in one pass over memory.
#include <torch/types.h>

#include <vector>

namespace dnas::ops {

// terms[0] * scales[0] + terms[1] * scales[1] + ..., summed left to right. Each term is
// [N, ...]; scales[k] is undefined (factor 1) or one factor per sample, [N, 1, ..., 1] of the
// term's rank. The result rounds as `x * s` and `a + b` do, term by term, so it equals the
// tensor-op expression bit for bit. Float32 CPU terms of one shape and dense layout (NCHW or
// NHWC) take a direct kernel, differentiable once; anything else runs those tensor ops.
torch::Tensor scaled_sum(const std::vector<torch::Tensor>& terms, const std::vector<torch::Tensor>& scales);

}  // namespace dnas::ops
