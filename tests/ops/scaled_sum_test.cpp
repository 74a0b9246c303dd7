// The fused drop-path node sum against the tensor ops it replaces, bit for bit.
#include "dnas/ops/scaled_sum.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using dnas::ops::scaled_sum;

struct Result {
  torch::Tensor y;
  std::vector<torch::Tensor> grads;
};

// out = sum of terms[k] * scales[k] through the kernel (fused) or through `x * s` and `a + b`.
Result run(bool fused, const std::vector<torch::Tensor>& terms0, const std::vector<torch::Tensor>& scales,
           const torch::Tensor& gy) {
  std::vector<torch::Tensor> terms;
  for (const auto& t : terms0) terms.push_back(t.detach().clone().set_requires_grad(true));
  torch::Tensor y;
  if (fused) {
    y = scaled_sum(terms, scales);
  } else {
    for (size_t k = 0; k < terms.size(); ++k) {
      const auto term = scales[k].defined() ? terms[k] * scales[k] : terms[k];
      y = y.defined() ? y + term : term;
    }
  }
  y.backward(gy);
  Result r{y.detach(), {}};
  for (const auto& t : terms) r.grads.push_back(t.grad());
  return r;
}

// Drop-path factors: a Bernoulli(0.7) mask over 0.7, [N, 1, 1, 1].
torch::Tensor factors(int64_t n) { return torch::empty({n, 1, 1, 1}).bernoulli_(0.7) / 0.7; }

TEST(ScaledSum, MatchesTensorOpsBitForBit) {
  torch::manual_seed(5);
  const int saved_threads = at::get_num_threads();
  // Shapes that split samples across thread chunks and blocks, and odd sizes.
  const std::vector<std::vector<int64_t>> shapes{{5, 7, 9, 11}, {4, 16, 40, 40}, {3, 64, 8, 8}, {1, 3, 1, 1}};
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    for (const auto& shape : shapes) {
      for (auto layout : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
        for (int pattern = 0; pattern < 4; ++pattern) {
          SCOPED_TRACE(::testing::Message()
                       << threads << " threads, shape " << torch::IntArrayRef(shape)
                       << (layout == torch::MemoryFormat::ChannelsLast ? " NHWC" : " NCHW") << ", pattern " << pattern);
          const int64_t n = shape[0];
          // pattern: which of the terms carry factors (0: both, 1: the first, 2: the second, 3: three
          // terms, the middle one unscaled).
          std::vector<torch::Tensor> terms, scales;
          const int count = pattern == 3 ? 3 : 2;
          for (int k = 0; k < count; ++k) {
            terms.push_back(torch::randn(shape).contiguous(layout));
            const bool scaled = pattern == 0 || pattern == 3 ? k != 1 || pattern == 0 : (pattern == 1) == (k == 0);
            scales.push_back(scaled ? factors(n) : torch::Tensor());
          }
          const auto gy = torch::randn(shape).contiguous(layout);
          const auto ref = run(false, terms, scales, gy);
          const auto got = run(true, terms, scales, gy);
          EXPECT_TRUE(torch::equal(got.y, ref.y));
          EXPECT_EQ(got.y.strides(), ref.y.strides());
          for (size_t k = 0; k < terms.size(); ++k)
            EXPECT_TRUE(torch::equal(got.grads[k], ref.grads[k])) << "term " << k;
        }
      }
    }
  }
  at::set_num_threads(saved_threads);
}

// Products and sums round separately: a fused multiply-add would differ from the two-rounding
// value in this hand-picked case.
TEST(ScaledSum, RoundsProductAndSumSeparately) {
  // x * s = 1 + 2^-23 + 2^-46 exactly; rounded to float it is 1 + 2^-23. With y = -(1 + 2^-23)
  // the separately rounded sum is 0, a fused multiply-add gives 2^-46.
  const float eps = std::ldexp(1.f, -23);
  auto x = torch::full({1, 1, 1, 1}, 1.f + eps);
  auto s = torch::full({1, 1, 1, 1}, 1.f + std::ldexp(1.f, -23));
  auto y = torch::full({1, 1, 1, 1}, -(1.f + 2 * eps));
  // (1 + e)(1 + e) = 1 + 2e + e^2, which rounds to 1 + 2e.
  const auto out = scaled_sum({y, x}, {torch::Tensor(), s});
  EXPECT_EQ(out.item<float>(), 0.f);
  EXPECT_TRUE(torch::equal(out, y + x * s));
}

TEST(ScaledSum, RejectsAFactorListOfAnotherLength) {
  auto x = torch::randn({2, 3, 4, 4});
  EXPECT_THROW(scaled_sum({x, x}, {torch::Tensor()}), std::exception);
  EXPECT_THROW(scaled_sum({}, {}), std::exception);
}

}  // namespace
