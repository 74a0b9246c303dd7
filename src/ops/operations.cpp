#include "dnas/ops/operations.h"

#include <torch/torch.h>

#include "dnas/ops/batch_norm.h"
#include "dnas/ops/pointwise_conv.h"
#include "dnas/ops/pooling.h"
#include "dnas/ops/stride2_grids.h"

namespace dnas::ops {

torch::Tensor ZeroOpImpl::forward(const torch::Tensor& x) {
  if (stride_ == 1) return x.mul(0.0);
  using torch::indexing::Slice;
  return x.index({Slice(), Slice(), Slice(0, torch::indexing::None, stride_), Slice(0, torch::indexing::None, stride_)})
      .mul(0.0);
}

FactorizedReduceImpl::FactorizedReduceImpl(int64_t c_in, int64_t c_out, bool affine) {
  TORCH_CHECK(c_out % 2 == 0, "FactorizedReduce needs an even output width, got ", c_out);
  auto half = torch::nn::Conv2dOptions(c_in, c_out / 2, 1).stride(2).bias(false);
  conv_1 = register_module("conv_1", torch::nn::Conv2d(half));
  conv_2 = register_module("conv_2", torch::nn::Conv2d(half));
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(c_out).affine(affine)));
}

torch::Tensor FactorizedReduceImpl::forward(const torch::Tensor& x) { return reduce(x, /*relu=*/true); }

torch::Tensor FactorizedReduceImpl::forward_activated(const torch::Tensor& relu_x) {
  return reduce(relu_x, /*relu=*/false);
}

// conv_1 (stride 2) samples the even grid, conv_2 on the shifted input the odd one: both run
// as stride-1 1x1 convs on the grids (same result, a quarter of the input read).
torch::Tensor FactorizedReduceImpl::reduce(const torch::Tensor& x, bool relu) {
  const auto [even, odd] = stride2_grids(x, relu);
  return batch_norm(*bn, torch::cat({conv1x1(even, conv_1->weight), conv1x1(odd, conv_2->weight)},
                                    /*dim=*/1));
}

PoolOpImpl::PoolOpImpl(Kind kind, int64_t kernel, int64_t stride, int64_t channels, bool with_bn)
    : kind_(kind), kernel_(kernel), stride_(stride) {
  if (with_bn) bn = register_module("1", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).affine(false)));
}

torch::Tensor PoolOpImpl::forward(const torch::Tensor& x) {
  auto y = kind_ == Kind::Max ? ops::max_pool2d(x, kernel_, stride_) : ops::avg_pool2d(x, kernel_, stride_);
  return bn ? batch_norm(*bn, y) : y;
}

ConvChainImpl::ConvChainImpl(std::vector<Layer> layers) : layers_(std::move(layers)) {
  op = torch::nn::Sequential();
  for (auto& layer : layers_) {
    switch (layer.kind) {
      case Layer::Kind::Relu:
        op->push_back(torch::nn::ReLU());
        break;
      case Layer::Kind::Conv:
        op->push_back(layer.conv);
        break;
      case Layer::Kind::Depthwise:
        op->push_back(layer.depthwise);
        break;
      case Layer::Kind::Norm:
        op->push_back(layer.norm);
        break;
    }
  }
  register_module("op", op);
}

bool ConvChainImpl::starts_with_relu() const { return !layers_.empty() && layers_.front().kind == Layer::Kind::Relu; }

torch::Tensor ConvChainImpl::run_from(size_t first, torch::Tensor x) {
  for (size_t i = first; i < layers_.size(); ++i) {
    auto& layer = layers_[i];
    switch (layer.kind) {
      case Layer::Kind::Relu: {
        // ReLU then a channels-last depthwise conv run as one kernel.
        auto* next = i + 1 < layers_.size() && layers_[i + 1].kind == Layer::Kind::Depthwise
                         ? layers_[i + 1].depthwise.get()
                         : nullptr;
        if (next && depthwise_mode() != DepthwiseMode::Torch && depthwise_nhwc_supported(x, next->weight, next->geom)) {
          x = depthwise_conv2d_nhwc(x, next->weight, next->geom, /*relu_input=*/true);
          ++i;
        } else {
          x = torch::relu(x);
        }
        break;
      }
      case Layer::Kind::Conv:
        x = layer.pointwise ? conv1x1(x, layer.conv->weight) : layer.conv(x);
        break;
      case Layer::Kind::Depthwise:
        x = layer.depthwise(x);
        break;
      case Layer::Kind::Norm: {
        // BN then ReLU run as one kernel (sep_conv's middle).
        const bool relu_next = i + 1 < layers_.size() && layers_[i + 1].kind == Layer::Kind::Relu;
        x = batch_norm(*layer.norm, x, relu_next);
        if (relu_next) ++i;
        break;
      }
    }
  }
  return x;
}

torch::Tensor ConvChainImpl::forward(const torch::Tensor& x) { return run_from(0, x); }

torch::Tensor ConvChainImpl::forward_activated(const torch::Tensor& relu_x) {
  TORCH_CHECK(starts_with_relu(), "forward_activated on a chain without a leading ReLU");
  return run_from(1, relu_x);
}

}  // namespace dnas::ops
