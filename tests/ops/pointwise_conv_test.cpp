// The direct 1x1 convolution against torch::conv2d: outputs and both gradients.
#include "dnas/ops/pointwise_conv.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using dnas::ops::pointwise_conv2d_nhwc;

struct Result {
  torch::Tensor y, gx, gw;
};

Result run(bool direct, const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& gy) {
  auto x = x0.detach().clone().set_requires_grad(true);
  auto w = w0.detach().clone().set_requires_grad(true);
  auto y = direct ? pointwise_conv2d_nhwc(x, w) : torch::conv2d(x, w);
  y.backward(gy);
  return {y.detach(), x.grad(), w.grad()};
}

TEST(PointwiseConv, MatchesTorchConv2d) {
  torch::manual_seed(3);
  // (N, Cin, Cout, H, W): the vectorised rows (4, 8 and 16 channels) and the scalar loop.
  const std::vector<std::array<int64_t, 5>> shapes{
      {8, 4, 4, 16, 16}, {2, 8, 8, 7, 9}, {2, 4, 8, 6, 6}, {2, 8, 4, 3, 11},  {3, 16, 16, 5, 5}, {2, 16, 4, 4, 4},
      {2, 12, 16, 6, 5}, {2, 3, 5, 9, 7}, {1, 1, 8, 2, 3}, {4, 6, 7, 33, 31}, {1, 8, 1, 5, 5},   {1, 16, 16, 40, 40}};
  for (const auto& [N, I, O, H, W] : shapes) {
    SCOPED_TRACE(::testing::Message() << "N " << N << " Cin " << I << " Cout " << O << " " << H << "x" << W);
    auto x = torch::randn({N, I, H, W}).contiguous(torch::MemoryFormat::ChannelsLast);
    auto w = torch::randn({O, I, 1, 1}).contiguous(torch::MemoryFormat::ChannelsLast);
    auto gy = torch::randn({N, O, H, W}).contiguous(torch::MemoryFormat::ChannelsLast);
    ASSERT_TRUE(dnas::ops::pointwise_nhwc_supported(x, w));
    const auto ref = run(false, x, w, gy);
    const auto got = run(true, x, w, gy);
    EXPECT_TRUE(torch::allclose(got.y, ref.y, 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(got.gx, ref.gx, 1e-5, 1e-5));
    // The weight gradient sums N*H*W products: a looser bound, relative to its scale.
    EXPECT_TRUE(torch::allclose(got.gw, ref.gw, 1e-4, 1e-4 * ref.gw.abs().max().item<double>()));
    EXPECT_TRUE(got.y.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(got.gx.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_EQ(got.gw.strides(), w.strides());
  }
}

TEST(PointwiseConv, ResultsDoNotDependOnTheThreadCount) {
  torch::manual_seed(4);
  // Enough pixels for several weight-gradient blocks and several threads' shares.
  auto x = torch::randn({16, 8, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w = torch::randn({8, 8, 1, 1});
  auto gy = torch::randn({16, 8, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = run(true, x, w, gy);
  at::set_num_threads(2);
  const auto two = run(true, x, w, gy);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.y, two.y));
  EXPECT_TRUE(torch::equal(one.gx, two.gx));
  EXPECT_TRUE(torch::equal(one.gw, two.gw));
}

TEST(PointwiseConv, TakesOnlyWhatItSupports) {
  auto nhwc = torch::randn({2, 4, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w = torch::randn({4, 4, 1, 1});
  EXPECT_TRUE(dnas::ops::pointwise_nhwc_supported(nhwc, w));
  EXPECT_FALSE(dnas::ops::pointwise_nhwc_supported(torch::randn({2, 4, 5, 5}), w));  // NCHW
  EXPECT_FALSE(dnas::ops::pointwise_nhwc_supported(nhwc.to(torch::kBFloat16), w));
  EXPECT_FALSE(dnas::ops::pointwise_nhwc_supported(nhwc, torch::randn({4, 4, 3, 3})));
  auto wide = torch::randn({2, 32, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_FALSE(dnas::ops::pointwise_nhwc_supported(wide, torch::randn({16, 32, 1, 1})));
  EXPECT_FALSE(dnas::ops::pointwise_nhwc_supported(nhwc, torch::randn({32, 4, 1, 1})));
  // Under CPU autocast the convolution is torch's, in bf16.
  at::autocast::set_cpu_enabled(true);
  EXPECT_FALSE(dnas::ops::pointwise_nhwc_supported(nhwc, w));
  at::autocast::set_cpu_enabled(false);
  EXPECT_TRUE(dnas::ops::pointwise_nhwc_supported(nhwc, w));
  // conv1x1 runs torch::conv2d where the kernel does not apply: same values.
  auto nchw = torch::randn({2, 4, 5, 5});
  EXPECT_TRUE(torch::equal(dnas::ops::conv1x1(nchw, w), torch::conv2d(nchw, w)));
  EXPECT_THROW(pointwise_conv2d_nhwc(nchw, w), c10::Error);
}

}  // namespace
