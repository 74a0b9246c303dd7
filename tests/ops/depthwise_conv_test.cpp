#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/ops/depthwise_conv.h"

using dnas::ops::DepthwiseGeometry;
using dnas::ops::DepthwiseMode;

class DepthwiseMatchesTorch : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t, int64_t>> {};

TEST_P(DepthwiseMatchesTorch, ForwardAndBothGradients) {
  const auto [k, stride, dilation, size] = GetParam();
  torch::manual_seed(1);
  DepthwiseGeometry g{k, stride, dilation * (k - 1) / 2, dilation};
  auto x = torch::randn({3, 5, size, size + 1}, torch::requires_grad());
  auto w = torch::randn({5, 1, k, k}, torch::requires_grad());
  auto run = [&](DepthwiseMode mode) {
    dnas::ops::set_depthwise_mode(mode);
    auto y = dnas::ops::depthwise_conv2d(x, w, g);
    auto grads = torch::autograd::grad({(y * y.detach().cos()).sum()}, {x, w});
    return std::vector<torch::Tensor>{y, grads[0], grads[1]};
  };
  auto direct = run(DepthwiseMode::Direct);
  auto reference = run(DepthwiseMode::Torch);
  dnas::ops::set_depthwise_mode(DepthwiseMode::Auto);
  ASSERT_EQ(direct[0].sizes(), reference[0].sizes());
  EXPECT_TRUE(torch::allclose(direct[0], reference[0], 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(direct[1], reference[1], 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(direct[2], reference[2], 1e-3, 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Geometries, DepthwiseMatchesTorch,
                         ::testing::Values(std::make_tuple(3, 1, 1, 9), std::make_tuple(5, 1, 1, 9),
                                           std::make_tuple(3, 1, 2, 8), std::make_tuple(5, 1, 2, 12),
                                           std::make_tuple(3, 2, 1, 9), std::make_tuple(5, 2, 2, 10),
                                           std::make_tuple(7, 1, 1, 7), std::make_tuple(3, 1, 1, 20)));

TEST(DepthwiseConv, ClosedFormOnAOnesKernel) {
  // A 3x3 ones kernel with padding 1 sums each 3x3 neighbourhood: the centre of a 3x3 ones
  // image gets 9, a corner 4, an edge 6.
  dnas::ops::set_depthwise_mode(DepthwiseMode::Direct);
  auto y = dnas::ops::depthwise_conv2d(torch::ones({1, 1, 3, 3}), torch::ones({1, 1, 3, 3}),
                                       DepthwiseGeometry{3, 1, 1, 1});
  dnas::ops::set_depthwise_mode(DepthwiseMode::Auto);
  EXPECT_FLOAT_EQ(y[0][0][1][1].item<float>(), 9.f);
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), 4.f);
  EXPECT_FLOAT_EQ(y[0][0][0][1].item<float>(), 6.f);
}
