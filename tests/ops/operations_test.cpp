#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/ops/memory_layout.h"
#include "dnas/ops/op_factory.h"
#include "dnas/ops/op_names.h"

namespace {

int64_t params_of(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// Conv weights (docs/methods.md 1.2 table) plus BN affine parameters (2 per BN channel).
int64_t expected_params(const std::string& op, int64_t c, int64_t stride, bool affine) {
  const int64_t bn = affine ? 2 * c : 0;
  if (op == "skip_connect") return stride == 1 ? 0 : 2 * (c * c / 2) + bn;  // FactorizedReduce
  if (op.rfind("sep_conv", 0) == 0) return dnas::ops::conv_weight_count(op, c) + 2 * bn;
  if (op == "none" || op.find("pool") != std::string::npos) return 0;
  return dnas::ops::conv_weight_count(op, c) + bn;
}

}  // namespace

class EveryOp : public ::testing::TestWithParam<std::tuple<std::string, int64_t, bool>> {};

TEST_P(EveryOp, OutputShapeAndParameterCount) {
  const auto [name, stride, affine] = GetParam();
  const int64_t c = 6;
  auto op = dnas::ops::make_op(name, c, stride, {affine, /*pool_bn=*/true});
  auto x = torch::randn({2, c, 10, 10});
  auto y = op->forward(x);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, c, 10 / stride, 10 / stride})) << name;
  EXPECT_EQ(params_of(*op), expected_params(name, c, stride, affine)) << name;
  if (op->starts_with_relu()) {
    op->eval();  // deterministic BN so both paths see the same statistics
    EXPECT_TRUE(torch::allclose(op->forward(x), op->forward_activated(torch::relu(x)))) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, EveryOp,
                         ::testing::Combine(::testing::ValuesIn(dnas::ops::known_op_names()), ::testing::Values(1, 2),
                                            ::testing::Bool()));

TEST(Operations, NoneWithStrideTwoGivesHalfSizeZeros) {
  auto op = dnas::ops::make_op("none", 8, 2, {});
  auto y = op->forward(torch::randn({1, 8, 16, 16}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 8, 8, 8}));
  EXPECT_EQ(y.abs().sum().item<float>(), 0.f);
}

TEST(Operations, AvgPoolExcludesPaddingFromTheDivisor) {
  auto op = dnas::ops::make_op("avg_pool_3x3", 1, 1, {false, /*pool_bn=*/false});
  auto y = op->forward(torch::ones({1, 1, 4, 4}));
  // With padding excluded the corner average of ones is exactly 1 (not 4/9).
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), 1.f);
}

TEST(Operations, SearchPoolsCarryANonAffineBatchNormNamedLikeTheReference) {
  auto op = dnas::ops::make_op("max_pool_3x3", 4, 1, {false, true});
  auto buffers = op->named_buffers();
  EXPECT_TRUE(buffers.contains("1.running_mean"));
  auto sep = dnas::ops::make_op("sep_conv_3x3", 4, 1, {true, true});
  auto params = sep->named_parameters();
  for (const char* key : {"op.1.weight", "op.2.weight", "op.3.weight", "op.5.weight", "op.6.weight", "op.7.bias"})
    EXPECT_TRUE(params.contains(key)) << key;
}

TEST(Operations, FactorizedReduceHandlesOddInputs) {
  auto op = dnas::ops::make_factorized_reduce(4, 8, true);
  EXPECT_EQ(op->forward(torch::randn({2, 4, 7, 7})).sizes(), (std::vector<int64_t>{2, 8, 4, 4}));
  EXPECT_EQ(op->forward(torch::randn({2, 4, 28, 28})).sizes(), (std::vector<int64_t>{2, 8, 14, 14}));
}

TEST(Operations, Conv3x1Then1x3UsesTheSpecOrder) {
  auto op = dnas::ops::make_op("conv_3x1_1x3", 4, 1, {true, true});
  auto params = op->named_parameters();
  EXPECT_EQ(params["op.1.weight"].sizes(), (std::vector<int64_t>{4, 4, 1, 3}));  // 1xk first
  EXPECT_EQ(params["op.2.weight"].sizes(), (std::vector<int64_t>{4, 4, 3, 1}));
}

// FactorizedReduce through its stride-2 grids against the reference formulation: ReLU, a
// stride-2 1x1 conv on x and one on x shifted by a pixel (zero-padded when odd), concat, BN.
class FactorizedReduceGrids : public ::testing::TestWithParam<std::tuple<int64_t, bool>> {};

TEST_P(FactorizedReduceGrids, ForwardAndGradientsEqualTheShiftedConvForm) {
  const auto [size, channels_last] = GetParam();
  torch::manual_seed(7);
  auto op = dnas::ops::make_factorized_reduce(3, 4, /*affine=*/true);
  const auto params = op->named_parameters();
  auto w1 = params["conv_1.weight"], w2 = params["conv_2.weight"];
  auto base = torch::randn({2, 3, size, size + 1});
  auto x = (channels_last ? base.contiguous(torch::MemoryFormat::ChannelsLast) : base).requires_grad_();
  auto y = op->forward(x);
  auto weights = torch::randn(y.sizes());
  auto grads = torch::autograd::grad({(y * weights).sum()}, {x, w1, w2});

  auto xr = base.clone().requires_grad_();
  using torch::indexing::None;
  using torch::indexing::Slice;
  auto r = torch::relu(xr);
  auto shifted = r.index({Slice(), Slice(), Slice(1, None), Slice(1, None)});
  shifted = torch::constant_pad_nd(shifted, {0, r.size(3) % 2, 0, r.size(2) % 2});
  auto w1r = w1.detach().clone().requires_grad_(), w2r = w2.detach().clone().requires_grad_();
  auto cat = torch::cat({torch::conv2d(r, w1r, {}, 2), torch::conv2d(shifted, w2r, {}, 2)}, 1);
  auto yr = torch::batch_norm(cat, params["bn.weight"], params["bn.bias"], {}, {}, true, 0.1, 1e-5, false);
  auto ref = torch::autograd::grad({(yr * weights).sum()}, {xr, w1r, w2r});

  ASSERT_EQ(y.sizes(), yr.sizes());
  EXPECT_TRUE(torch::allclose(y, yr, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(grads[0], ref[0], 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(grads[1], ref[1], 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(grads[2], ref[2], 1e-4, 1e-4));
  EXPECT_EQ(grads[0].is_contiguous(torch::MemoryFormat::ChannelsLast), channels_last);
}

INSTANTIATE_TEST_SUITE_P(EvenOddAndLayouts, FactorizedReduceGrids,
                         ::testing::Combine(::testing::Values(6, 7), ::testing::Bool()));

// A one-channel batch keeps NCHW strides under contiguous(ChannelsLast), and a convolution of it
// then writes NCHW; to_channels_last gives it NHWC strides, the same values.
TEST(MemoryLayout, OneChannelBatchLeadsTheStemToChannelsLast) {
  const auto x = torch::randn({4, 1, 6, 5});
  const auto w = torch::randn({12, 1, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(torch::conv2d(x.contiguous(torch::MemoryFormat::ChannelsLast), w, {}, 1, 1).stride(1), 30);
  const auto nhwc = dnas::ops::to_channels_last(x);
  EXPECT_EQ(nhwc.stride(1), 1);
  EXPECT_TRUE(torch::equal(nhwc, x));
  const auto y = torch::conv2d(nhwc, w, {}, 1, 1);
  EXPECT_EQ(y.stride(1), 1);
  EXPECT_TRUE(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(y, torch::conv2d(x, w, {}, 1, 1), 1e-5, 1e-6));
  // Three channels: the plain conversion.
  const auto x3 = torch::randn({2, 3, 4, 4});
  EXPECT_TRUE(dnas::ops::to_channels_last(x3).is_contiguous(torch::MemoryFormat::ChannelsLast));
}
