// dnas's channels-last kernels on bfloat16 activations read each value as float, sum in float
// and round each output once: so their results equal the float32 kernels' on the same values,
// rounded once to bfloat16, bit for bit (outputs and input gradients), and their float32 weight
// gradients equal the float32 kernels' exactly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/ops/batch_norm.h"
#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/pooling.h"

using namespace dnas;

namespace {

constexpr auto kChannelsLast = torch::MemoryFormat::ChannelsLast;

// Activations [4, C, 9, 9] channels-last in bfloat16 (with exact zeros, which a ReLU's mask
// must treat as off), and the same values in float32.
std::pair<torch::Tensor, torch::Tensor> activations(int64_t channels, uint64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::randn({4, channels, 9, 9});
  x.masked_fill_(torch::rand_like(x) < 0.05, 0.0);
  const auto x16 = x.contiguous(kChannelsLast).to(torch::kBFloat16);
  return {x16, x16.to(torch::kFloat32)};
}

bool bits_equal(const torch::Tensor& bf16, const torch::Tensor& f32_rounded) {
  return bf16.scalar_type() == torch::kBFloat16 && torch::equal(bf16, f32_rounded.to(torch::kBFloat16));
}

struct Case {
  int64_t channels, kernel, stride, dilation;
  bool relu;
};

class Bf16Depthwise : public ::testing::TestWithParam<Case> {};

TEST_P(Bf16Depthwise, EqualsFloat32RoundedOnce) {
  const auto c = GetParam();
  const ops::DepthwiseGeometry g{c.kernel, c.stride, c.dilation * (c.kernel - 1) / 2, c.dilation};
  const auto [x16, x32] = activations(c.channels, 7);
  const auto w = torch::randn({c.channels, 1, c.kernel, c.kernel});
  ASSERT_TRUE(ops::depthwise_nhwc_supported(x16, w, g));
  auto run = [&](const torch::Tensor& x) {
    auto in = x.clone().requires_grad_();
    auto wt = w.clone().requires_grad_();
    auto y = ops::depthwise_conv2d_nhwc(in, wt, g, c.relu);
    torch::manual_seed(11);
    const auto dy = torch::randn(y.sizes()).to(torch::kBFloat16).to(x.scalar_type()).contiguous(kChannelsLast);
    y.backward(dy);
    return std::make_tuple(y.detach(), in.grad(), wt.grad());
  };
  const auto [y16, gx16, gw16] = run(x16);
  const auto [y32, gx32, gw32] = run(x32);
  EXPECT_TRUE(bits_equal(y16, y32));
  EXPECT_TRUE(bits_equal(gx16, gx32));
  EXPECT_EQ(gw16.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(gw16, gw32));
  EXPECT_TRUE(y16.is_contiguous(kChannelsLast));
}

// 24 and 20 channels: full 16-lane blocks and an overlapping last block; 6: 4 lanes and an
// overlap; 3: one lane at a time.
INSTANTIATE_TEST_SUITE_P(Shapes, Bf16Depthwise,
                         ::testing::Values(Case{24, 3, 1, 1, true}, Case{20, 5, 1, 1, false}, Case{20, 3, 1, 2, true},
                                           Case{6, 3, 2, 1, true}, Case{3, 5, 2, 2, false}, Case{24, 3, 2, 1, false}));

TEST(Bf16BatchNorm, EqualsFloat32RoundedOnce) {
  for (const int64_t channels : {24, 20, 3}) {
    for (const bool relu : {true, false}) {
      SCOPED_TRACE(std::to_string(channels) + (relu ? " relu" : ""));
      const auto [x16, x32] = activations(channels, 5);
      ASSERT_TRUE(ops::channels_last_kernel(x16));
      torch::nn::BatchNorm2d bn16(channels), bn32(channels);
      {
        torch::NoGradGuard no_grad;
        for (auto* bn : {&bn16, &bn32}) {
          (*bn)->weight.copy_(torch::linspace(0.5, 1.5, channels));
          (*bn)->bias.copy_(torch::linspace(-0.2, 0.3, channels));
        }
      }
      auto run = [&](torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
        auto in = x.clone().requires_grad_();
        auto y = ops::batch_norm(*bn, in, relu);
        torch::manual_seed(13);
        y.backward(torch::randn(y.sizes()).to(torch::kBFloat16).to(x.scalar_type()).contiguous(kChannelsLast));
        return std::make_pair(y.detach(), in.grad());
      };
      const auto [y16, gx16] = run(bn16, x16);
      const auto [y32, gx32] = run(bn32, x32);
      EXPECT_TRUE(bits_equal(y16, y32));
      EXPECT_TRUE(bits_equal(gx16, gx32));
      EXPECT_EQ(bn16->weight.grad().scalar_type(), torch::kFloat32);
      EXPECT_TRUE(torch::equal(bn16->weight.grad(), bn32->weight.grad()));
      EXPECT_TRUE(torch::equal(bn16->bias.grad(), bn32->bias.grad()));
      EXPECT_TRUE(torch::equal(bn16->running_mean, bn32->running_mean));
      EXPECT_TRUE(torch::equal(bn16->running_var, bn32->running_var));
    }
  }
}

// Average pooling is the window sum (the depthwise kernel, one rounding) times the inverse
// window count in bfloat16 (a second rounding).
TEST(Bf16AvgPool, IsTheRoundedWindowSumTimesTheRoundedInverseCount) {
  const auto [x16, x32] = activations(20, 9);
  const auto ones = torch::ones({20, 1, 3, 3});
  const ops::DepthwiseGeometry window{3, 2, 1, 1};
  const auto sums = ops::depthwise_conv2d_nhwc(x32, ones, window, /*relu_input=*/false).to(torch::kBFloat16);
  const auto pooled = ops::avg_pool2d(x16, 3, 2);
  const auto image = torch::ones({1, 1, 9, 9}).contiguous(kChannelsLast);
  const auto counts = ops::depthwise_conv2d_nhwc(image, torch::ones({1, 1, 3, 3}), window, false);  // in-image cells
  EXPECT_EQ(pooled.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(pooled, sums * counts.reciprocal().to(torch::kBFloat16)));
}

}  // namespace
