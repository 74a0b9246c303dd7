#include "dnas/ops/op_factory.h"

#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/ops/op_names.h"

namespace dnas::ops {
namespace {

using Layer = ConvChainImpl::Layer;

Layer relu() { return Layer{Layer::Kind::Relu}; }

Layer conv(int64_t c_in, int64_t c_out, std::vector<int64_t> kernel, std::vector<int64_t> stride,
           std::vector<int64_t> pad) {
  Layer l{Layer::Kind::Conv};
  l.conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(c_in, c_out, kernel).stride(stride).padding(pad).bias(false));
  l.pointwise =
      kernel == std::vector<int64_t>{1, 1} && stride == std::vector<int64_t>{1, 1} && pad == std::vector<int64_t>{0, 0};
  return l;
}

Layer depthwise(int64_t c, int64_t k, int64_t stride, int64_t dilation) {
  Layer l{Layer::Kind::Depthwise};
  l.depthwise = DepthwiseConv2d(c, DepthwiseGeometry{k, stride, dilation * (k - 1) / 2, dilation});
  return l;
}

Layer norm(int64_t c, bool affine) {
  Layer l{Layer::Kind::Norm};
  l.norm = torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(c).affine(affine));
  return l;
}

// ReLU, depthwise kxk (stride s, dilation d), 1x1 conv, BN.
std::vector<Layer> depthwise_block(int64_t c, int64_t k, int64_t s, int64_t d, bool affine) {
  return {relu(), depthwise(c, k, s, d), conv(c, c, {1, 1}, {1, 1}, {0, 0}), norm(c, affine)};
}

CandidateOpPtr sep_conv(int64_t c, int64_t k, int64_t s, bool affine) {
  auto layers = depthwise_block(c, k, s, 1, affine);
  auto second = depthwise_block(c, k, 1, 1, affine);
  layers.insert(layers.end(), second.begin(), second.end());
  return std::make_shared<ConvChainImpl>(std::move(layers));
}

// 1xk then kx1 conv, no BN between them (docs/methods.md 1.2).
CandidateOpPtr conv_1xk_kx1(int64_t c, int64_t k, int64_t s, bool affine) {
  const int64_t p = (k - 1) / 2;
  return std::make_shared<ConvChainImpl>(std::vector<Layer>{relu(), conv(c, c, {1, k}, {1, s}, {0, p}),
                                                            conv(c, c, {k, 1}, {s, 1}, {p, 0}), norm(c, affine)});
}

}  // namespace

CandidateOpPtr make_relu_conv_bn(int64_t c_in, int64_t c_out, int64_t kernel, bool affine) {
  const int64_t p = (kernel - 1) / 2;
  return std::make_shared<ConvChainImpl>(
      std::vector<Layer>{relu(), conv(c_in, c_out, {kernel, kernel}, {1, 1}, {p, p}), norm(c_out, affine)});
}

CandidateOpPtr make_factorized_reduce(int64_t c_in, int64_t c_out, bool affine) {
  return std::make_shared<FactorizedReduceImpl>(c_in, c_out, affine);
}

CandidateOpPtr make_op(const std::string& name, int64_t c, int64_t s, const OpOptions& o) {
  const std::string op = canonical_op_name(name, "make_op");
  TORCH_CHECK(s == 1 || s == 2, "op stride must be 1 or 2, got ", s);
  if (op == "none") return std::make_shared<ZeroOpImpl>(s);
  if (op == "skip_connect") {
    if (s == 1) return std::make_shared<IdentityOpImpl>();
    return make_factorized_reduce(c, c, o.affine);
  }
  if (op == "avg_pool_3x3") return std::make_shared<PoolOpImpl>(PoolOpImpl::Kind::Avg, 3, s, c, o.pool_bn);
  if (op.rfind("max_pool_", 0) == 0) {
    const int64_t k = op[9] - '0';  // max_pool_3x3 / 5x5 / 7x7
    return std::make_shared<PoolOpImpl>(PoolOpImpl::Kind::Max, k, s, c, o.pool_bn);
  }
  if (op.rfind("sep_conv_", 0) == 0) return sep_conv(c, op[9] - '0', s, o.affine);
  if (op.rfind("dil_conv_", 0) == 0) {
    const int64_t k = op[9] - '0';
    return std::make_shared<ConvChainImpl>(depthwise_block(c, k, s, 2, o.affine));
  }
  if (op == "conv_1x1" || op == "conv_3x3") {
    const int64_t k = op == "conv_1x1" ? 1 : 3;
    return std::make_shared<ConvChainImpl>(
        std::vector<Layer>{relu(), conv(c, c, {k, k}, {s, s}, {(k - 1) / 2, (k - 1) / 2}), norm(c, o.affine)});
  }
  if (op == "conv_3x1_1x3") return conv_1xk_kx1(c, 3, s, o.affine);
  if (op == "conv_7x1_1x7") return conv_1xk_kx1(c, 7, s, o.affine);
  fail("operation '" + op + "' has no builder", "make_op", "this is a bug in dnas");
}

int64_t conv_weight_count(const std::string& name, int64_t c) {
  const std::string op = canonical_op_name(name, "conv_weight_count");
  auto k_of = [&](size_t pos) -> int64_t { return op[pos] - '0'; };
  if (op.rfind("sep_conv_", 0) == 0) return 2 * (k_of(9) * k_of(9) * c + c * c);
  if (op.rfind("dil_conv_", 0) == 0) return k_of(9) * k_of(9) * c + c * c;
  if (op == "conv_1x1") return c * c;
  if (op == "conv_3x3") return 9 * c * c;
  if (op == "conv_3x1_1x3") return 2 * 3 * c * c;
  if (op == "conv_7x1_1x7") return 2 * 7 * c * c;
  return 0;  // none, skip_connect, pools
}

int64_t op_multiply_adds(const std::string& name, int64_t c, int64_t s, int64_t h, int64_t w) {
  const std::string op = canonical_op_name(name, "op_multiply_adds");
  const int64_t ho = (h + s - 1) / s, wo = (w + s - 1) / s;
  if (op == "skip_connect") return s == 1 ? 0 : c * c * ho * wo;  // FactorizedReduce: two c x c/2 1x1 convs
  if (op == "conv_3x1_1x3" || op == "conv_7x1_1x7") {
    const int64_t k = op == "conv_3x1_1x3" ? 3 : 7;
    return k * c * c * h * wo + k * c * c * ho * wo;  // 1xk at stride (1, s), then kx1 at (s, 1)
  }
  // Every other conv of an op produces the op's output resolution.
  return conv_weight_count(op, c) * ho * wo;
}

}  // namespace dnas::ops
