// The fused clip + SGD step against libtorch's clip_grad_norm_ and SGD::step(), bit for bit.
#include "dnas/optim/sgd_step.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/store/module_state.h"

namespace {

struct Case {
  double lr, momentum, dampening, weight_decay, clip;
  bool nesterov;
};

// Parameters of awkward sizes (vector tails, more than one thread's grain), a channels-last
// 4-D weight and a float64 one (the tensor-operation path).
std::vector<torch::Tensor> make_params() {
  torch::manual_seed(7);
  std::vector<torch::Tensor> out;
  for (int64_t n : {1, 3, 7, 17, 31, 33, 100, 1000, 4097, 70001}) out.push_back(torch::randn({n}));
  out.push_back(torch::randn({8, 5, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast));
  out.push_back(torch::randn({6, 4}, torch::kDouble));
  for (auto& p : out) p.set_requires_grad(true);
  return out;
}

std::vector<torch::Tensor> clone_params(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

torch::optim::SGDOptions options_of(const Case& c) {
  return torch::optim::SGDOptions(c.lr)
      .momentum(c.momentum)
      .dampening(c.dampening)
      .weight_decay(c.weight_decay)
      .nesterov(c.nesterov);
}

torch::Tensor momentum_of(torch::optim::SGD& sgd, const torch::Tensor& p) {
  auto& state = sgd.state();
  auto it = state.find(dnas::store::optimizer_state_key(state, p));
  if (it == state.end()) return {};
  return static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
}

void expect_same_steps(const Case& c, int threads) {
  at::set_num_threads(threads);
  auto reference = make_params();
  auto fused = clone_params(reference);
  torch::optim::SGD reference_sgd(reference, options_of(c));
  torch::optim::SGD fused_sgd(fused, options_of(c));
  for (int step = 0; step < 4; ++step) {
    for (size_t i = 0; i < reference.size(); ++i) {
      // Parameter 2 has no gradient in step 1, parameter 4 none before step 2.
      if ((i == 2 && step == 1) || (i == 4 && step < 2)) {
        reference[i].mutable_grad() = torch::Tensor();
        fused[i].mutable_grad() = torch::Tensor();
        continue;
      }
      auto g = torch::randn_like(reference[i]) * 3.0;
      reference[i].mutable_grad() = g.clone();
      fused[i].mutable_grad() = g.clone();
    }
    if (c.clip > 0) torch::nn::utils::clip_grad_norm_(reference, c.clip);
    reference_sgd.step();
    dnas::optim::clip_and_step(fused_sgd, c.clip);
    for (size_t i = 0; i < reference.size(); ++i) {
      SCOPED_TRACE("step " + std::to_string(step) + ", parameter " + std::to_string(i));
      EXPECT_TRUE(torch::equal(reference[i], fused[i]));
      if (reference[i].grad().defined()) {
        EXPECT_TRUE(torch::equal(reference[i].grad(), fused[i].grad()));
      }
      auto a = momentum_of(reference_sgd, reference[i]), b = momentum_of(fused_sgd, fused[i]);
      ASSERT_EQ(a.defined(), b.defined());
      if (a.defined()) {
        EXPECT_TRUE(torch::equal(a, b));
        EXPECT_EQ(a.strides(), b.strides());
      }
    }
  }
  // The steps moved the weights by more than rounding: the comparison above had work to do.
  EXPECT_FALSE(torch::allclose(make_params()[9], fused[9]));
}

TEST(SgdStep, MatchesClipGradNormAndSgdBitForBit) {
  const int threads = at::get_num_threads();
  for (const Case& c : {Case{0.025, 0.9, 0.0, 3e-4, 5.0, false}, Case{0.1, 0.9, 0.0, 1e-2, 1e9, true},
                        Case{0.05, 0.0, 0.0, 0.0, 0.0, false}, Case{0.01, 0.8, 0.1, 1e-3, 2.0, false}}) {
    for (int t : {1, 2}) {
      SCOPED_TRACE("lr " + std::to_string(c.lr) + ", " + std::to_string(t) + " threads");
      expect_same_steps(c, t);
    }
  }
  at::set_num_threads(threads);
}

TEST(SgdStep, MomentumBufferWithOtherStridesTakesTheTensorPath) {
  // A buffer restored from a checkpoint in NCHW for a channels-last weight.
  auto p = torch::randn({4, 3, 2, 2}).contiguous(torch::MemoryFormat::ChannelsLast).set_requires_grad(true);
  auto q = p.detach().clone().set_requires_grad(true);
  torch::optim::SGD a({p}, options_of(Case{0.1, 0.9, 0.0, 1e-3, 1.0, false}));
  torch::optim::SGD b({q}, options_of(Case{0.1, 0.9, 0.0, 1e-3, 1.0, false}));
  const auto buf = torch::randn({4, 3, 2, 2});
  for (auto* sgd : {&a, &b}) {
    auto st = std::make_unique<torch::optim::SGDParamState>();
    const auto& param = sgd == &a ? p : q;
    st->momentum_buffer(buf.clone());
    sgd->state()[dnas::store::optimizer_state_key(sgd->state(), param)] = std::move(st);
  }
  const auto g = torch::randn({4, 3, 2, 2}) * 10;
  p.mutable_grad() = g.contiguous(torch::MemoryFormat::ChannelsLast);
  q.mutable_grad() = g.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{p}, 1.0);
  a.step();
  dnas::optim::clip_and_step(b, 1.0);
  EXPECT_TRUE(torch::equal(p, q));
  EXPECT_TRUE(torch::equal(p.grad(), q.grad()));
  EXPECT_NEAR(q.grad().norm().item<double>(), 1.0, 1e-5);  // clipped
}

}  // namespace
