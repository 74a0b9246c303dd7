// The channels-last batch-norm kernels against BN computed in float64 from its definition.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/ops/batch_norm.h"

namespace {

constexpr auto kChannelsLast = torch::MemoryFormat::ChannelsLast;

// Training-mode BN (+ReLU) in float64 from the formulas: y = (x - mean) / sqrt(var + eps) * g + b.
torch::Tensor reference_bn(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& b, bool relu) {
  auto mean = x.mean({0, 2, 3}, /*keepdim=*/true);
  auto var = (x - mean).pow(2).mean({0, 2, 3}, true);
  auto y = (x - mean) / (var + 1e-5).sqrt() * g.view({1, -1, 1, 1}) + b.view({1, -1, 1, 1});
  return relu ? torch::relu(y) : y;
}

struct Grads {
  torch::Tensor y, dx, dw, db;
};

Grads run_kernel(const torch::Tensor& x0, const torch::Tensor& g0, const torch::Tensor& b0, const torch::Tensor& dy,
                 bool relu) {
  torch::nn::BatchNorm2d bn(x0.size(1));
  {
    torch::NoGradGuard no_grad;
    bn->weight.copy_(g0);
    bn->bias.copy_(b0);
  }
  auto x = x0.contiguous(kChannelsLast).requires_grad_();
  auto y = dnas::ops::batch_norm(*bn, x, relu);
  y.backward(dy.contiguous(kChannelsLast));
  return {y, x.grad(), bn->weight.grad(), bn->bias.grad()};
}

class BatchNormKernel : public ::testing::TestWithParam<bool> {};

TEST_P(BatchNormKernel, ForwardAndGradientsEqualTheFloat64Definition) {
  const bool relu = GetParam();
  torch::manual_seed(3);
  auto x = torch::randn({4, 5, 6, 7}) * 3 + 1;  // off-centre data: the one-pass variance must stay exact
  auto g = torch::rand({5}) + 0.5, b = torch::randn({5});
  auto dy = torch::randn({4, 5, 6, 7});
  auto xd = x.to(torch::kDouble).requires_grad_(), gd = g.to(torch::kDouble).requires_grad_();
  auto bd = b.to(torch::kDouble).requires_grad_();
  auto ref = reference_bn(xd, gd, bd, relu);
  // No output sits on the ReLU's kink, where float and double could disagree on the mask.
  ASSERT_GT((ref.detach() - 0).abs().masked_fill(ref.detach() == 0, 1).min().item<double>(), 1e-4);
  ref.backward(dy.to(torch::kDouble));

  const auto k = run_kernel(x, g, b, dy, relu);
  EXPECT_TRUE(k.y.is_contiguous(kChannelsLast));
  EXPECT_TRUE(k.dx.is_contiguous(kChannelsLast));
  EXPECT_TRUE(torch::allclose(k.y.to(torch::kDouble), ref.detach(), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(k.dx.to(torch::kDouble), xd.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(k.dw.to(torch::kDouble), gd.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(k.db.to(torch::kDouble), bd.grad(), 1e-4, 1e-4));
  if (relu) {
    EXPECT_EQ(k.y.min().item<float>(), 0.f);
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutRelu, BatchNormKernel, ::testing::Bool());

TEST(BatchNormKernel, RunningStatisticsFollowTorch) {
  torch::manual_seed(4);
  auto x = torch::randn({3, 4, 5, 5}) * 2 + 0.5;
  torch::nn::BatchNorm2d ours(4), theirs(4);
  for (int step = 0; step < 3; ++step) {
    dnas::ops::batch_norm(*ours, x.contiguous(kChannelsLast));
    theirs(x);
  }
  EXPECT_TRUE(torch::allclose(ours->running_mean, theirs->running_mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(ours->running_var, theirs->running_var, 1e-5, 1e-6));  // unbiased variance
  EXPECT_EQ(ours->num_batches_tracked.item<int64_t>(), 3);
  ours->eval();
  theirs->eval();
  EXPECT_TRUE(torch::allclose(dnas::ops::batch_norm(*ours, x.contiguous(kChannelsLast)), theirs(x), 1e-5, 1e-5));
}

TEST(BatchNormKernel, ResultsDoNotDependOnTheThreadCount) {
  torch::manual_seed(5);
  auto x = torch::randn({8, 16, 16, 16}), dy = torch::randn({8, 16, 16, 16});
  auto g = torch::rand({16}), b = torch::randn({16});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = run_kernel(x, g, b, dy, true);
  at::set_num_threads(2);
  const auto two = run_kernel(x, g, b, dy, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.y, two.y));
  EXPECT_TRUE(torch::equal(one.dx, two.dx));
  EXPECT_TRUE(torch::equal(one.dw, two.dw));
}

// Channels-last [N, C, H, W] copy of x whose data starts `offset` floats into a fresh buffer.
static torch::Tensor at_offset(const torch::Tensor& x, int64_t offset) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  auto buffer = torch::zeros({offset + x.numel()});
  auto view = buffer.as_strided({N, C, H, W}, {H * W * C, 1, W * C, C}, offset);
  view.copy_(x);
  return view;
}

// The results do not depend on the alignment of the operands (no peeled loop rounding otherwise).
// Darts.SameSeedSameResultBothOrders guards the related case that the `__restrict` qualifiers
// fix: without them GCC checks the arrays for overlap at run time, and its scalar fallback fuses
// multiply-adds differently from the vector loop, so a result depended on the heap's layout.
TEST(BatchNormKernel, ResultsDoNotDependOnWhereTheTensorsLie) {
  torch::manual_seed(0);
  const auto x0 = torch::randn({4, 8, 8, 8}), dy0 = torch::randn({4, 8, 8, 8});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  for (const bool relu : {false, true}) {
    std::vector<torch::Tensor> first;
    for (int64_t offset = 0; offset < 16; ++offset) {
      torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(8).affine(false));
      auto x = at_offset(x0, offset).requires_grad_();
      ASSERT_TRUE(dnas::ops::channels_last_kernel(x));
      const auto y = dnas::ops::batch_norm(*bn, x, relu);
      const auto dx = torch::autograd::grad({y}, {x}, {at_offset(dy0, (offset * 5) % 16)})[0];
      const std::vector<torch::Tensor> now = {y.detach(), dx};
      if (offset == 0) first = now;
      for (size_t i = 0; i < now.size(); ++i)
        EXPECT_TRUE(torch::equal(now[i], first[i])) << "relu " << relu << ", offset " << offset << ", output " << i;
    }
  }
  at::set_num_threads(threads);
}

// A NaN input gives NaN statistics, and the fused ReLU keeps them NaN as torch::relu does: a
// diverged run must not look finite.
TEST(BatchNormKernel, FusedReluKeepsNaN) {
  auto x = torch::randn({2, 4, 3, 3});
  x[1][2][0][1] = std::numeric_limits<float>::quiet_NaN();
  torch::nn::BatchNorm2d bn(4);
  const auto y = dnas::ops::batch_norm(*bn, x.contiguous(kChannelsLast), /*relu=*/true);
  const auto expected = reference_bn(x, torch::ones({4}), torch::zeros({4}), /*relu=*/true).isnan();
  EXPECT_TRUE(expected.select(1, 2).all().item<bool>());  // channel 2's mean is NaN
  EXPECT_TRUE(torch::equal(y.isnan(), expected));
}

TEST(BatchNormKernel, NchwInputsGoThroughTorch) {
  torch::manual_seed(6);
  auto x = torch::randn({2, 3, 4, 4});
  torch::nn::BatchNorm2d ours(3), theirs(3);
  EXPECT_FALSE(dnas::ops::channels_last_kernel(x));
  EXPECT_TRUE(dnas::ops::channels_last_kernel(x.contiguous(kChannelsLast)));
  EXPECT_TRUE(torch::equal(dnas::ops::batch_norm(*ours, x, /*relu=*/true), torch::relu(theirs(x))));
}

TEST(BatchNormKernel, NonAffineNormHasNoParameterGradients) {
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(3).affine(false));
  auto x = torch::randn({2, 3, 4, 4}).contiguous(kChannelsLast).requires_grad_();
  auto y = dnas::ops::batch_norm(*bn, x);
  y.pow(2).sum().backward();
  // Each channel of y is standardised: its per-channel mean is 0 and variance 1.
  EXPECT_LT(y.mean({0, 2, 3}).abs().max().item<float>(), 1e-5);
  EXPECT_NEAR(y.pow(2).mean({0, 2, 3}).mean().item<float>(), 1.0, 1e-3);
  // sum(y^2) = M var / (var + eps) hardly depends on x: its gradient is ~eps, not O(1).
  EXPECT_LT(x.grad().abs().max().item<float>(), 1e-3);
  EXPECT_FALSE(bn->weight.defined());
}

}  // namespace
