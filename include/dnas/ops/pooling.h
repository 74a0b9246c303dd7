#pragma once
// Pooling with direct CPU kernels: max pool at stride 1 and 2, avg pool at stride 1 (the
// libtorch NCHW max-pool kernel is several times slower at NAS shapes). Other cases and
// non-CPU tensors call the libtorch ops. Results match torch exactly (ties: first maximum).
#include <torch/types.h>

namespace dnas::ops {

// x [N, C, H, W] float32 -> [N, C, H', W'], padding (k-1)/2.
torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride);
// Average over the window with padded cells excluded from the divisor.
torch::Tensor avg_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride);

}  // namespace dnas::ops
