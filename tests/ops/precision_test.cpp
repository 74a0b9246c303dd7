// Autocast scopes, and dnas's own NHWC kernels fed bfloat16 activations against the float32
// kernels within bfloat16 tolerance.
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/ops/batch_norm.h"
#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/pooling.h"
#include "dnas/ops/precision.h"
#include "dnas/ops/stride2_grids.h"

using namespace dnas;

namespace {

constexpr auto kChannelsLast = torch::MemoryFormat::ChannelsLast;
// bfloat16 keeps 8 significant bits: one rounding is a relative error of at most 2^-8.
constexpr double kBf16Rounding = 1.0 / 256;

torch::Tensor conv_dtype_probe() { return torch::conv2d(torch::randn({1, 2, 4, 4}), torch::randn({2, 2, 1, 1})); }

// max |a - b| / max |b|
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() /
         b.to(torch::kDouble).abs().max().item<double>();
}

}  // namespace

TEST(Precision, ParsesTheThreeNamesAndRefusesOthers) {
  EXPECT_EQ(ops::parse_precision("fp32", "k"), ops::Precision::Fp32);
  EXPECT_EQ(ops::parse_precision("bf16", "k"), ops::Precision::Bf16);
  EXPECT_EQ(ops::parse_precision("fp16", "k"), ops::Precision::Fp16);
  try {
    ops::parse_precision("float16", "run.precision");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run.precision"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ops::activation_dtype(ops::Precision::Bf16), torch::kBFloat16);
  EXPECT_STREQ(ops::precision_name(ops::Precision::Fp16), "fp16");
}

TEST(Precision, AutocastScopeLowersConvolutionsAndRestoresTheState) {
  EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kFloat32);
  {
    ops::AutocastScope fp32(ops::Precision::Fp32, torch::kCPU);
    EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kFloat32);
  }
  {
    ops::AutocastScope outer(ops::Precision::Bf16, torch::kCPU);
    EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kBFloat16);
    {
      ops::FullPrecisionScope full;
      EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kFloat32);
      ops::AutocastScope inner(ops::Precision::Bf16, torch::kCPU);  // does nothing inside full precision
      EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kFloat32);
    }
    EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kBFloat16);
    {
      ops::AutocastScope nested(ops::Precision::Bf16, torch::kCPU);
      EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kBFloat16);
    }
    EXPECT_TRUE(at::autocast::is_cpu_enabled());
  }
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  EXPECT_EQ(conv_dtype_probe().scalar_type(), torch::kFloat32);
}

TEST(Precision, Fp16AutocastOnTheCpuIsRefused) {
  EXPECT_THROW(ops::AutocastScope(ops::Precision::Fp16, torch::kCPU), c10::Error);
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
}

// Each op on bf16 input against the same op on the float32 values of that input: the only
// differences are the roundings of the output (and of the op's internal sums). NCHW bf16 runs
// dnas's float32 kernels between two conversions, channels-last bf16 runs libtorch's bf16 ops.
class Bf16Ops : public ::testing::TestWithParam<torch::MemoryFormat> {};

TEST_P(Bf16Ops, MatchFloat32WithinBfloat16Rounding) {
  torch::manual_seed(3);
  const auto format = GetParam();
  const auto x32 = torch::randn({4, 24, 10, 10}).contiguous(format);
  const auto x16 = x32.to(torch::kBFloat16);
  const auto x = x16.to(torch::kFloat32);  // the bf16 values, exactly, in float32
  const auto dy = torch::randn({4, 24, 10, 10}).contiguous(format);

  torch::nn::BatchNorm2d bn32(24), bn16(24);
  auto y32 = ops::batch_norm(*bn32, x.clone().requires_grad_(), /*relu=*/true);
  auto in16 = x16.clone().requires_grad_();
  auto y16 = ops::batch_norm(*bn16, in16, /*relu=*/true);
  EXPECT_EQ(y16.scalar_type(), torch::kBFloat16);
  EXPECT_LT(relative_error(y16, y32), 2 * kBf16Rounding);
  // statistics stay float32 and equal up to the summation order
  EXPECT_EQ(bn16->running_mean.scalar_type(), torch::kFloat32);
  EXPECT_LT(relative_error(bn16->running_var, bn32->running_var), 1e-5);
  y16.backward(dy.to(torch::kBFloat16));
  EXPECT_EQ(in16.grad().scalar_type(), torch::kBFloat16);

  const ops::DepthwiseGeometry dil{3, 1, 2, 2};
  const auto w = torch::randn({24, 1, 3, 3});
  {
    ops::AutocastScope bf16(ops::Precision::Bf16, torch::kCPU);
    auto d16 = ops::depthwise_conv2d(x16, w, dil);
    EXPECT_EQ(d16.scalar_type(), torch::kBFloat16);
    // the weights are rounded too: a sum of 9 products with two roundings each
    EXPECT_LT(relative_error(d16, ops::depthwise_conv2d(x, w.to(torch::kBFloat16).to(torch::kFloat32), dil)),
              2 * kBf16Rounding);
  }
  EXPECT_LT(relative_error(ops::max_pool2d(x16, 3, 1), ops::max_pool2d(x, 3, 1)), 1e-12);  // max is exact
  EXPECT_LT(relative_error(ops::avg_pool2d(x16, 3, 2), ops::avg_pool2d(x, 3, 2)), 2 * kBf16Rounding);
  const auto [a16, b16] = ops::stride2_grids(x16, /*relu=*/true);
  const auto [a32, b32] = ops::stride2_grids(x, /*relu=*/true);
  EXPECT_TRUE(torch::equal(a16.to(torch::kFloat32), a32));  // copies and ReLU are exact
  EXPECT_TRUE(torch::equal(b16.to(torch::kFloat32), b32));
  // gradients reach bf16 inputs through the conversions
  auto p16 = x16.clone().requires_grad_();
  ops::max_pool2d(p16, 3, 1).sum().backward();
  auto p32 = x.clone().requires_grad_();
  ops::max_pool2d(p32, 3, 1).sum().backward();
  EXPECT_EQ(p16.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(p16.grad().to(torch::kFloat32), p32.grad()));  // counts of small integers: exact
}

INSTANTIATE_TEST_SUITE_P(BothLayouts, Bf16Ops, ::testing::Values(kChannelsLast, torch::MemoryFormat::Contiguous));
