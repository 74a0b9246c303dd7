#pragma once
// Depthwise 2-d convolution (groups == channels) with a direct CPU kernel for forward and
// both backward passes. libtorch's CPU path for depthwise backward goes through a slow
// per-group GEMM; the direct loops below are several times faster at NAS shapes.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace dnas::ops {

struct DepthwiseGeometry {
  int64_t kernel = 3, stride = 1, padding = 1, dilation = 1;
  int64_t out_size(int64_t in) const { return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1; }
};

// Functional form. input [N, C, H, W] float32, weight [C, 1, k, k] -> [N, C, H', W'].
// The direct kernels (CPU float only) are differentiable once; see DepthwiseMode.
torch::Tensor depthwise_conv2d(const torch::Tensor& input, const torch::Tensor& weight, const DepthwiseGeometry& geom);

// Channels-last (NHWC) CPU float inputs: direct kernels vectorised over channels, computing the
// conv of ReLU(input) when relu_input is set (the ReLU's gradient included). Differentiable once.
bool depthwise_nhwc_supported(const torch::Tensor& input, const torch::Tensor& weight, const DepthwiseGeometry& g);
torch::Tensor depthwise_conv2d_nhwc(const torch::Tensor& input, const torch::Tensor& weight, const DepthwiseGeometry& g,
                                    bool relu_input);

// Process-wide kernel choice. Auto: the direct kernel where it beats oneDNN (stride 1 with
// 5x5 or dilation); Direct: always (CPU float); Torch: always torch::conv2d, which also
// supports double backward.
enum class DepthwiseMode { Auto, Direct, Torch };
void set_depthwise_mode(DepthwiseMode mode);
DepthwiseMode depthwise_mode();

// Module holding the [C, 1, k, k] weight (state_dict name "weight", as nn.Conv2d).
class DepthwiseConv2dImpl : public torch::nn::Module {
 public:
  DepthwiseConv2dImpl(int64_t channels, DepthwiseGeometry geom);
  torch::Tensor forward(const torch::Tensor& x);  // [N, C, H, W] -> [N, C, H', W']
  torch::Tensor weight;                           // [C, 1, k, k]
  DepthwiseGeometry geom;
};
TORCH_MODULE(DepthwiseConv2d);

}  // namespace dnas::ops
