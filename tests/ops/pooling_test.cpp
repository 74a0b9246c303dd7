#include <gtest/gtest.h>
#include <torch/torch.h>

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
                         ::testing::Combine(::testing::Values(3, 5, 7), ::testing::Values(1, 2),
                                            ::testing::Bool()));

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
