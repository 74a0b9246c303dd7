#pragma once
// 1x1 convolution (stride 1, no bias, one group) on channels-last float32 CPU tensors as a
// direct kernel: at NAS search shapes (4 to 16 channels) oneDNN spends most of each call on
// per-call set-up, while the products themselves take a few microseconds.
#include <torch/types.h>

namespace dnas::ops {

// Whether the direct kernel takes this call: input [N, Cin, H, W] float32, channels-last
// contiguous, on the CPU; weight [Cout, Cin, 1, 1] float32 with Cin, Cout <= 16; and the
// direct kernels are on (DepthwiseMode::Torch turns them all off) and CPU autocast is off (under
// bf16 autocast the convolution runs in bf16, as torch::conv2d).
bool pointwise_nhwc_supported(const torch::Tensor& input, const torch::Tensor& weight);

// input [N, Cin, H, W] (NHWC), weight [Cout, Cin, 1, 1] -> [N, Cout, H, W] (NHWC). Differentiable
// once. Each output sums its Cin products in channel order; the weight gradient sums fixed
// blocks of pixels, then the blocks in order, so results do not depend on the thread count.
torch::Tensor pointwise_conv2d_nhwc(const torch::Tensor& input, const torch::Tensor& weight);

// pointwise_conv2d_nhwc where supported, else torch::conv2d (same numbers as the nn.Conv2d of a
// 1x1, stride-1, bias-free weight).
torch::Tensor conv1x1(const torch::Tensor& input, const torch::Tensor& weight);

}  // namespace dnas::ops
