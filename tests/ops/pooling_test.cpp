#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/pooling.h"

using dnas::ops::DepthwiseMode;

class PoolingMatchesTorch : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, bool>> {};

TEST_P(PoolingMatchesTorch, ForwardAndGradient) {
  const auto [k, stride, is_max] = GetParam();
  torch::manual_seed(2);
  // rounding to a coarse grid creates ties inside windows: gradients must go to the first max
  auto base = torch::randn({2, 3, 9, 11}).mul(2).round();
  auto run = [&](DepthwiseMode mode) {
    dnas::ops::set_depthwise_mode(mode);
    auto x = base.clone().requires_grad_();
    auto y = is_max ? dnas::ops::max_pool2d(x, k, stride) : dnas::ops::avg_pool2d(x, k, stride);
    auto g = torch::autograd::grad({(y * torch::arange(y.numel()).view_as(y).sin()).sum()}, {x})[0];
    return std::make_pair(y, g);
  };
  auto direct = run(DepthwiseMode::Auto);
  auto reference = run(DepthwiseMode::Torch);
  dnas::ops::set_depthwise_mode(DepthwiseMode::Auto);
  ASSERT_EQ(direct.first.sizes(), reference.first.sizes());
  EXPECT_TRUE(torch::allclose(direct.first, reference.first, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(direct.second, reference.second, 1e-5, 1e-6));
}

INSTANTIATE_TEST_SUITE_P(Pools, PoolingMatchesTorch,
                         ::testing::Combine(::testing::Values(3, 5, 7), ::testing::Values(1, 2), ::testing::Bool()));

TEST(Pooling, AverageOfACornerWindowCountsOnlyImageCells) {
  // 3x3 input 1..9: the corner window holds 1,2,4,5 -> mean 3; the centre 1..9 -> mean 5.
  auto x = torch::arange(1, 10, torch::kFloat32).view({1, 1, 3, 3});
  auto y = dnas::ops::avg_pool2d(x, 3, 1);
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), 3.f);
  EXPECT_FLOAT_EQ(y[0][0][1][1].item<float>(), 5.f);
  auto m = dnas::ops::max_pool2d(x, 3, 1);
  EXPECT_FLOAT_EQ(m[0][0][0][0].item<float>(), 5.f);
  EXPECT_FLOAT_EQ(m[0][0][2][2].item<float>(), 9.f);
}

// Channels-last inputs take the NHWC kernels; they must equal torch on the NCHW input,
// including ties (first maximum), NaN propagation and the excluded-padding divisor.
class PoolingNhwcMatchesTorch : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, bool, int64_t>> {};

TEST_P(PoolingNhwcMatchesTorch, ForwardAndGradient) {
  const auto [k, stride, is_max, channels] = GetParam();
  torch::manual_seed(10);
  auto base = torch::randn({2, channels, 9, 11}).mul(2).round();  // ties inside windows
  if (is_max) base[1][0][4][5] = std::numeric_limits<float>::quiet_NaN();
  auto probe = torch::arange(1, 1 + 2 * channels * 11 * 11).to(torch::kFloat32).sin();
  auto run = [&](const torch::Tensor& input, bool ours) {
    auto x = input.clone().requires_grad_();
    const int64_t p = (k - 1) / 2;
    auto y = ours ? (is_max ? dnas::ops::max_pool2d(x, k, stride) : dnas::ops::avg_pool2d(x, k, stride))
                  : (is_max ? torch::max_pool2d(x, k, stride, p)
                            : torch::avg_pool2d(x, k, stride, p, false, /*count_include_pad=*/false));
    auto g = torch::autograd::grad({(y.nan_to_num(0) * probe.narrow(0, 0, y.numel()).view_as(y)).sum()}, {x})[0];
    return std::make_pair(y, g);
  };
  auto ours = run(base.contiguous(torch::MemoryFormat::ChannelsLast), true);
  auto ref = run(base, false);
  ASSERT_EQ(ours.first.sizes(), ref.first.sizes());
  EXPECT_TRUE(ours.first.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(ours.first, ref.first, 1e-5, 1e-6, /*equal_nan=*/true));
  EXPECT_TRUE(torch::allclose(ours.second, ref.second, 1e-5, 1e-6, /*equal_nan=*/true));
}

INSTANTIATE_TEST_SUITE_P(Pools, PoolingNhwcMatchesTorch,
                         ::testing::Combine(::testing::Values(3, 5), ::testing::Values(1, 2), ::testing::Bool(),
                                            ::testing::Values(3, 4, 8, 12, 20)));

// Non-finite windows on the NCHW direct kernel: a window that is all NaN, all -inf or holds +inf
// must give torch's values and send its gradient to an in-image cell (an all-NaN corner window
// once kept a tap inside the padding, and the backward wrote outside the gradient buffer).
class MaxPoolNonFinite : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(MaxPoolNonFinite, MatchesTorch) {
  const auto [k, stride] = GetParam();
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  torch::manual_seed(4);
  auto base = torch::randn({2, 3, 8, 9});
  base[0][0].fill_(nan);                                  // every window NaN
  base[0][1].fill_(-inf);                                 // every window -inf
  base[0][2].narrow(0, 0, 3).narrow(1, 0, 3).fill_(nan);  // NaN corner
  base[1][0][0][0] = inf;
  base[1][1][7][8] = -inf;
  base[1][2][3][4] = nan;
  auto probe = torch::arange(1, 1 + base.numel()).to(torch::kFloat32).cos();
  auto run = [&](DepthwiseMode mode) {
    dnas::ops::set_depthwise_mode(mode);
    auto x = base.clone().requires_grad_();
    auto y = dnas::ops::max_pool2d(x, k, stride);
    // the probe as the output gradient: every window's gradient (NaN windows too) goes to its tap
    auto g = torch::autograd::grad({y}, {x}, {probe.narrow(0, 0, y.numel()).view_as(y)})[0];
    return std::make_pair(y, g);
  };
  auto ours = run(DepthwiseMode::Auto);
  auto ref = run(DepthwiseMode::Torch);
  dnas::ops::set_depthwise_mode(DepthwiseMode::Auto);
  EXPECT_TRUE(torch::equal(ours.first.isnan(), ref.first.isnan()));
  EXPECT_TRUE(torch::equal(ours.first.nan_to_num(0), ref.first.nan_to_num(0)));
  EXPECT_TRUE(torch::equal(ours.second, ref.second));
}

INSTANTIATE_TEST_SUITE_P(Pools, MaxPoolNonFinite, ::testing::Combine(::testing::Values(3, 5), ::testing::Values(1, 2)));
