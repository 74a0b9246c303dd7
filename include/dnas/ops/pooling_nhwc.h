#pragma once
// Channels-last CPU float max pooling with direct kernels (libtorch's channels-last max pool
// backward is 3x its forward). Used by max_pool2d in pooling.h.
#include <torch/types.h>

namespace dnas::ops {

bool pool_nhwc_supported(const torch::Tensor& x, int64_t kernel);
// x [N, C, H, W] channels-last -> channels-last [N, C, H', W'], padding (k-1)/2.
torch::Tensor max_pool2d_nhwc(const torch::Tensor& x, int64_t kernel, int64_t stride);

}  // namespace dnas::ops
