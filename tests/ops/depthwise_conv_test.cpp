#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/parallel_kernels.h"

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
  auto y =
      dnas::ops::depthwise_conv2d(torch::ones({1, 1, 3, 3}), torch::ones({1, 1, 3, 3}), DepthwiseGeometry{3, 1, 1, 1});
  dnas::ops::set_depthwise_mode(DepthwiseMode::Auto);
  EXPECT_FLOAT_EQ(y[0][0][1][1].item<float>(), 9.f);
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), 4.f);
  EXPECT_FLOAT_EQ(y[0][0][0][1].item<float>(), 6.f);
}

// The channels-last kernels (with and without the fused input ReLU) against torch's conv2d of
// the NCHW input; channel counts exercise every vector width (16 + 4 + 1 lanes).
class DepthwiseNhwcMatchesTorch
    : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t, int64_t, bool>> {};

TEST_P(DepthwiseNhwcMatchesTorch, ForwardAndBothGradients) {
  const auto [k, stride, dilation, channels, relu] = GetParam();
  torch::manual_seed(8);
  DepthwiseGeometry g{k, stride, dilation * (k - 1) / 2, dilation};
  auto base = torch::randn({2, channels, 9, 10});
  auto w0 = torch::randn({channels, 1, k, k});
  auto probe = torch::randn({2, channels, g.out_size(9), g.out_size(10)});

  auto x = base.contiguous(torch::MemoryFormat::ChannelsLast).requires_grad_();
  auto w = w0.clone().requires_grad_();
  ASSERT_TRUE(dnas::ops::depthwise_nhwc_supported(x, w, g));
  auto y = dnas::ops::depthwise_conv2d_nhwc(x, w, g, relu);
  auto grads = torch::autograd::grad({(y * probe).sum()}, {x, w});

  auto xr = base.clone().requires_grad_(), wr = w0.clone().requires_grad_();
  auto yr = torch::conv2d(relu ? torch::relu(xr) : xr, wr, {}, stride, g.padding, dilation, channels);
  auto ref = torch::autograd::grad({(yr * probe).sum()}, {xr, wr});

  ASSERT_EQ(y.sizes(), yr.sizes());
  EXPECT_TRUE(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(grads[0].is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(y, yr, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(grads[0], ref[0], 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(grads[1], ref[1], 1e-4, 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Geometries, DepthwiseNhwcMatchesTorch,
                         ::testing::Values(std::make_tuple(3, 1, 1, 16, false), std::make_tuple(3, 1, 1, 21, true),
                                           std::make_tuple(5, 1, 1, 36, true), std::make_tuple(3, 1, 2, 21, true),
                                           std::make_tuple(5, 1, 2, 8, false), std::make_tuple(3, 2, 1, 21, true),
                                           std::make_tuple(5, 2, 2, 5, true), std::make_tuple(7, 1, 1, 3, false)));

// The fused ReLU of the input keeps a NaN (torch::relu does), so it reaches the output.
TEST(DepthwiseNhwc, FusedReluKeepsNaN) {
  DepthwiseGeometry g{3, 1, 1, 1};
  auto x = torch::randn({1, 8, 5, 5});
  x[0][3][2][2] = std::numeric_limits<float>::quiet_NaN();
  const auto w = torch::randn({8, 1, 3, 3});
  const auto y = dnas::ops::depthwise_conv2d_nhwc(x.contiguous(torch::MemoryFormat::ChannelsLast), w, g, true);
  const auto yr = torch::conv2d(torch::relu(x), w, {}, 1, 1, 1, 8);
  EXPECT_EQ(yr.isnan().sum().item<int64_t>(), 9);  // the 3x3 outputs that read the NaN
  EXPECT_TRUE(torch::equal(y.isnan(), yr.isnan()));
}

TEST(DepthwiseNhwc, GradientsDoNotDependOnTheThreadCount) {
  torch::manual_seed(9);
  auto base = torch::randn({4, 24, 12, 12}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w0 = torch::randn({24, 1, 3, 3});
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    auto x = base.clone().requires_grad_();
    auto w = w0.clone().requires_grad_();
    auto y = dnas::ops::depthwise_conv2d_nhwc(x, w, DepthwiseGeometry{3, 1, 2, 2}, true);
    auto g = torch::autograd::grad({y.pow(2).sum()}, {x, w});
    return std::make_pair(g[0], g[1]);
  };
  const int threads = at::get_num_threads();
  auto one = run(1), two = run(2);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.first, two.first));
  EXPECT_TRUE(torch::equal(one.second, two.second));
}

// The kernels' at::parallel_for is inline: compiled without OpenMP it runs every row on one thread.
TEST(ParallelKernels, RunOnEveryIntraOpThread) {
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  const int used = dnas::ops::parallel_kernel_threads();
  at::set_num_threads(threads);
  EXPECT_EQ(used, 2);
}
