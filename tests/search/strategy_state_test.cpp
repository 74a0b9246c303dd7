#include "dnas/search/strategy_state.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/core/error.h"

namespace dnas::search {
namespace {

// Two Adam steps with fixed gradients on a fresh parameter.
torch::Tensor adam_param(torch::optim::Adam** out_adam, std::unique_ptr<torch::optim::Adam>& holder) {
  auto p = torch::tensor({1.0f, -2.0f, 3.0f}).requires_grad_();
  holder = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{p},
                                                torch::optim::AdamOptions(0.1).betas({0.5, 0.999}));
  *out_adam = holder.get();
  return p;
}

void adam_step(torch::optim::Adam& adam, const torch::Tensor& p, const torch::Tensor& g) {
  adam.zero_grad();
  p.mutable_grad() = g.clone();
  adam.step();
}

TEST(StrategyState, AdamRoundTripContinuesIdentically) {
  std::unique_ptr<torch::optim::Adam> h1, h2;
  torch::optim::Adam *a1, *a2;
  auto p1 = adam_param(&a1, h1);
  adam_step(*a1, p1, torch::tensor({0.3f, -0.1f, 2.0f}));
  adam_step(*a1, p1, torch::tensor({-0.5f, 0.2f, 1.0f}));
  std::vector<NamedTensor> saved;
  append_adam_state(saved, "adam", *a1);
  ASSERT_EQ(saved.size(), 3u);
  EXPECT_EQ(find_state(saved, "adam/0/step").item<int64_t>(), 2);

  auto p2 = adam_param(&a2, h2);
  {
    torch::NoGradGuard ng;
    p2.copy_(p1);
  }
  load_adam_state(*a2, "adam", saved);
  const auto g = torch::tensor({0.7f, 0.7f, -0.4f});
  adam_step(*a1, p1, g);
  adam_step(*a2, p2, g);
  EXPECT_TRUE(torch::equal(p1, p2));

  // Without the restored moments the third step differs (the test can fail).
  std::unique_ptr<torch::optim::Adam> h3;
  torch::optim::Adam* a3;
  auto p3 = adam_param(&a3, h3);
  {
    torch::NoGradGuard ng;
    p3.copy_(p2);
  }
  adam_step(*a3, p3, g);
  adam_step(*a2, p2, g);
  EXPECT_FALSE(torch::equal(p2, p3));
}

TEST(StrategyState, MissingOrMisShapedEntryIsNamed) {
  std::vector<NamedTensor> s{{"alpha", torch::zeros({2, 3})}, {"tau", scalar_state(0.5)}};
  EXPECT_DOUBLE_EQ(restore_scalar(s, "tau"), 0.5);
  auto dst = torch::ones({2, 3});
  restore_state(s, "alpha", dst);
  EXPECT_EQ(dst.sum().item<float>(), 0.0f);
  try {
    restore_state(s, "beta", dst);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("beta"), std::string::npos);
  }
  auto wrong = torch::ones({3, 2});
  try {
    restore_state(s, "alpha", wrong);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2,3]"), std::string::npos);
  }
}

}  // namespace
}  // namespace dnas::search
