// Dynamic loss scaling: the scale multiplies the loss and divides the gradients exactly (powers
// of two), an inf/NaN gradient skips the step and halves the scale, good steps grow it.
#include "dnas/train/loss_scaler.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

using dnas::train::LossScaler;

TEST(LossScaler, ScalesTheLossAndUnscalesTheGradientsExactly) {
  LossScaler s(true, /*initial_scale=*/1024.0, /*growth_interval=*/3);
  auto w = torch::tensor({0.5f, -1.25f}).requires_grad_();
  auto loss = (w * w).sum();
  EXPECT_FLOAT_EQ(s.scale(loss).item<float>(), 1024.0f * loss.item<float>());
  s.scale(loss).backward();
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({1024.0f, -2560.0f})));
  EXPECT_TRUE(s.unscale({w}));
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({1.0f, -2.5f})));  // 2 w, exactly
}

TEST(LossScaler, OverflowSkipsAndHalvesGoodStepsGrow) {
  LossScaler s(true, 1024.0, 3);
  auto w = torch::zeros({2}).requires_grad_();
  w.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  auto undefined_grad = torch::zeros({1}).requires_grad_();  // parameters without a gradient are skipped
  const bool finite = s.unscale({w, undefined_grad});
  EXPECT_FALSE(finite);
  s.update(finite);
  EXPECT_EQ(s.current_scale(), 512.0);
  EXPECT_EQ(s.skipped_steps(), 1);
  for (int i = 0; i < 2; ++i) s.update(true);
  EXPECT_EQ(s.current_scale(), 512.0);
  s.update(true);  // the third good step in a row
  EXPECT_EQ(s.current_scale(), 1024.0);
  w.mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN(), 0.0f});
  EXPECT_FALSE(s.unscale({w}));
}

TEST(LossScaler, DisabledIsTheIdentity) {
  LossScaler s(false);
  auto w = torch::tensor({3.0f}).requires_grad_();
  auto loss = w * 2;
  EXPECT_TRUE(torch::equal(s.scale(loss), loss));
  w.mutable_grad() = torch::tensor({std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(s.unscale({w}));  // not checked when disabled
  s.update(false);
  EXPECT_EQ(s.skipped_steps(), 0);
}
