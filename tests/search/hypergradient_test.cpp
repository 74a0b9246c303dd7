// The second-order DARTS hypergradient (finite-difference Hessian-vector product) against an
// exact computation by double backprop, in float64: on a tiny supernet (the image space's CNN
// form) and on a small closed-form problem (both forms, the RNN one with clipping).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "dnas/loop/schedule.h"
#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/op_names.h"
#include "dnas/search/darts.h"
#include "dnas/search/hypergradient.h"
#include "dnas/search/search_loop.h"
#include "search/search_fixtures.h"

using namespace dnas;

namespace {

struct TinySearch {
  supernet::SupernetConfig cfg;
  std::unique_ptr<search::WeightTrainer> weights;
  std::unique_ptr<search::DartsStrategy> darts;
  search::TensorBatch train, val;

  TinySearch() {
    torch::manual_seed(7);
    cfg = dnas::testing::tiny_supernet_config();
    supernet::Supernet net(cfg);
    net->to(torch::kFloat64);
    weights = std::make_unique<search::WeightTrainer>(net, search::WeightOptions{0.05, 0.9, 3e-4, 5.0});
    // ReLU and max-pool kinks make the finite difference inaccurate at the default radius 0.01
    // on so small a net; a radius of 1e-5 in float64 isolates the algorithm from that.
    search::OptimConfig optim;
    optim.hessian_radius = 1e-5;
    darts = std::make_unique<search::DartsStrategy>(2, cfg, optim);
    auto& a = darts->arch();
    a.alpha_normal = torch::randn_like(a.alpha_normal, torch::kFloat64).mul_(0.5).requires_grad_();
    a.alpha_reduce = torch::randn_like(a.alpha_reduce, torch::kFloat64).mul_(0.5).requires_grad_();
    train = dnas::testing::random_batch(6, torch::kFloat64);
    val = dnas::testing::random_batch(6, torch::kFloat64);
  }

  supernet::ArchMix mix() {
    auto& a = darts->arch();
    return {supernet::soft_mix(torch::softmax(a.alpha_normal, -1)),
            supernet::soft_mix(torch::softmax(a.alpha_reduce, -1))};
  }
  torch::Tensor loss(const search::TensorBatch& b) {
    return torch::cross_entropy_loss(weights->net->forward(b.x, mix()), b.y);
  }
};

class Float64Torch : public ::testing::Test {
 protected:
  void SetUp() override { ops::set_depthwise_mode(ops::DepthwiseMode::Torch); }
  void TearDown() override { ops::set_depthwise_mode(ops::DepthwiseMode::Auto); }
};

}  // namespace

TEST_F(Float64Torch, SecondOrderMatchesExactHessianVectorProduct) {
  TinySearch t;
  // one weight step so the momentum term of the unrolled step is non-zero
  t.weights->step(t.train, t.darts->inference_mix());
  auto params = t.weights->net->parameters();
  std::vector<torch::Tensor> before;
  for (const auto& p : params) before.push_back(p.detach().clone());

  auto approx = t.darts->second_order_gradient(*t.weights, t.train, t.val);

  // w is restored exactly
  for (size_t i = 0; i < params.size(); ++i) ASSERT_TRUE(torch::equal(params[i], before[i]));

  // Exact: g = dLval(w')/da - xi * d/da <dLtrain(w)/dw, v>, v = dLval(w')/dw'.
  const double xi = t.weights->lr(), mu = 0.9, wd = 3e-4;
  auto momentum = t.weights->momentum_buffers();
  auto g_train = torch::autograd::grad({t.loss(t.train)}, params);
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) params[i].sub_(xi * (mu * momentum[i] + g_train[i] + wd * before[i]));
  }
  auto arch = t.darts->arch().list();
  std::vector<torch::Tensor> inputs = arch;
  inputs.insert(inputs.end(), params.begin(), params.end());
  auto gv = torch::autograd::grad({t.loss(t.val)}, inputs);
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(before[i]);
  }
  auto g_w = torch::autograd::grad({t.loss(t.train)}, params, {}, true, /*create_graph=*/true);
  torch::Tensor dot = torch::zeros({}, torch::kFloat64);
  for (size_t i = 0; i < params.size(); ++i) dot = dot + (g_w[i] * gv[2 + i]).sum();
  auto hvp = torch::autograd::grad({dot}, arch);
  for (int k = 0; k < 2; ++k) {
    auto exact = gv[k] - xi * hvp[k];
    const double scale = exact.abs().max().item<double>();
    ASSERT_GT(scale, 0.0);
    EXPECT_LT((approx[k] - exact).abs().max().item<double>(), 1e-4 * scale) << "cell type " << k;
    // the second-order term matters: it differs from the first-order gradient
    EXPECT_GT((exact - gv[k]).abs().max().item<double>(), 1e-6 * scale);
  }
}

namespace {

// L_train and L_val of weights w = (w1 [3], w2 [2]) and an architecture a [4], coupled through
// softmax(a) so that d/da dL/dw is not zero.
struct ClosedFormProblem {
  torch::Tensor w1 = torch::tensor({0.3, -0.7, 1.1}, torch::kFloat64).requires_grad_();
  torch::Tensor w2 = torch::tensor({0.5, -0.2}, torch::kFloat64).requires_grad_();
  torch::Tensor a = torch::tensor({0.1, -0.4, 0.8, 0.2}, torch::kFloat64).requires_grad_();
  std::vector<torch::Tensor> weights() const { return {w1, w2}; }

  torch::Tensor train(const torch::Tensor& arch) const {
    const auto s = torch::softmax(arch, 0);
    return 2 * (s.slice(0, 0, 3) * torch::tanh(w1)).sum() + s[3] * (w2 * w2).sum() + 0.5 * (w1 * w1).sum();
  }
  torch::Tensor val(const torch::Tensor& arch) const {
    const auto s = torch::softmax(arch, 0);
    return (s.slice(0, 0, 3) * w1.pow(3)).sum() + s[3] * torch::cos(w2).sum() + (w2 * w2).sum();
  }
  void set_weights(const std::vector<torch::Tensor>& values) const {
    torch::NoGradGuard no_grad;
    w1.copy_(values[0]);
    w2.copy_(values[1]);
  }
};

constexpr double kXi = 0.1, kWeightDecay = 0.01;

// Exact: dL_val(w', a)/da - xi k d/da <dL_train(w, a)/dw, v>, with g and v clipped to `clip`
// (k = g's clip coefficient; 1 without clipping) and w' = w - xi (g + wd w); also the second
// term alone.
std::pair<torch::Tensor, torch::Tensor> exact_hypergradient(const ClosedFormProblem& p, double clip) {
  const auto w = p.weights();
  std::vector<torch::Tensor> before = {p.w1.detach().clone(), p.w2.detach().clone()};
  auto g = torch::autograd::grad({p.train(p.a.detach())}, w);
  const double k = search::clip_to_norm(g, clip);
  EXPECT_TRUE(clip == 0 || k < 1) << "g is clipped";
  p.set_weights(
      {before[0] - kXi * (g[0] + kWeightDecay * before[0]), before[1] - kXi * (g[1] + kWeightDecay * before[1])});
  auto gv = torch::autograd::grad({p.val(p.a)}, {p.a, p.w1, p.w2});
  std::vector<torch::Tensor> v = {gv[1], gv[2]};
  const double kv = search::clip_to_norm(v, clip);
  EXPECT_TRUE(clip == 0 || kv < 1) << "v is clipped";
  p.set_weights(before);
  const auto g_w = torch::autograd::grad({p.train(p.a)}, w, {}, true, /*create_graph=*/true);
  const auto dot = (g_w[0] * v[0]).sum() + (g_w[1] * v[1]).sum();
  const auto second = kXi * k * torch::autograd::grad({dot}, {p.a})[0];
  return {gv[0] - second, second};
}

}  // namespace

TEST(UnrolledHypergradient, BothFormsMatchDoubleBackpropAndRestoreTheWeights) {
  // The CNN reference never clips; 0.5 < ||g||, ||v|| clips g and v (k < 1) in the RNN form.
  const std::vector<std::pair<search::FiniteDifferenceForm, double>> cases = {{search::FiniteDifferenceForm::Cnn, 0.0},
                                                                              {search::FiniteDifferenceForm::Rnn, 0.0},
                                                                              {search::FiniteDifferenceForm::Rnn, 0.5}};
  for (const auto& [form, clip] : cases) {
    const ClosedFormProblem p;
    const std::vector<torch::Tensor> before = {p.w1.detach().clone(), p.w2.detach().clone()};
    int step_calls = 0, val_calls = 0, train_calls = 0;
    search::UnrolledProblem problem;
    problem.weights = p.weights();
    problem.arch = {p.a};
    problem.xi = kXi;
    problem.hessian_radius = 1e-5;
    problem.clip = clip;
    problem.form = form;
    problem.step_loss = [&] {
      ++step_calls;
      return p.train(p.a.detach());
    };
    problem.val_loss = [&] {
      ++val_calls;
      return p.val(p.a);
    };
    problem.train_loss = [&] {
      ++train_calls;
      return p.train(p.a);
    };
    problem.virtual_step = [&](const std::vector<torch::Tensor>& g) {
      for (size_t i = 0; i < g.size(); ++i) problem.weights[i].sub_(kXi * (g[i] + kWeightDecay * problem.weights[i]));
    };
    const auto approx = search::unrolled_hypergradient(problem);
    const std::string label = std::to_string(static_cast<int>(form)) + " clip " + std::to_string(clip);
    ASSERT_EQ(approx.size(), 1u);
    EXPECT_TRUE(torch::equal(p.w1, before[0]) && torch::equal(p.w2, before[1])) << "w is restored exactly: " << label;
    EXPECT_EQ(step_calls, 1);
    EXPECT_EQ(val_calls, 1);
    EXPECT_EQ(train_calls, 2);
    const auto [exact, second] = exact_hypergradient(p, clip);
    const double scale = exact.abs().max().item<double>();
    EXPECT_LT((approx[0] - exact).abs().max().item<double>(), 1e-8 * scale) << label;
    EXPECT_GT(second.abs().max().item<double>(), 1e-3 * scale) << "the second-order term matters: " << label;
  }
}

TEST(UnrolledHypergradient, ClipToNormReturnsTheUncappedCoefficient) {
  std::vector<torch::Tensor> g{torch::tensor({3.0}, torch::kDouble),
                               torch::tensor({4.0}, torch::kDouble)};  // ||g|| = 5
  EXPECT_DOUBLE_EQ(search::clip_to_norm(g, 1.0), 1.0 / (5.0 + 1e-6));
  EXPECT_NEAR(g[0].item<double>(), 0.6, 1e-6);
  EXPECT_NEAR(g[1].item<double>(), 0.8, 1e-6);
  std::vector<torch::Tensor> small{torch::tensor({0.375}, torch::kDouble), torch::tensor({0.5}, torch::kDouble)};
  EXPECT_DOUBLE_EQ(search::clip_to_norm(small, 1.0), 1.0 / (0.625 + 1e-6));  // > 1: not applied
  EXPECT_EQ(small[0].item<double>(), 0.375);
  EXPECT_EQ(search::clip_to_norm(small, 0.0), 1.0);  // off
}

TEST(Darts, FiniteDifferenceEpsilonOracle) {
  // ||v|| = 2 gives eps = 0.01 / 2
  std::vector<torch::Tensor> v{torch::tensor({1.0, 1.0}), torch::tensor({1.0, 1.0})};
  EXPECT_DOUBLE_EQ(search::finite_difference_epsilon(v, 0.01), 0.005);
  EXPECT_DOUBLE_EQ(search::OptimConfig{}.hessian_radius, 0.01);
  // A zero v gives a finite step (its norm counts as 1e-12).
  EXPECT_DOUBLE_EQ(search::finite_difference_epsilon({torch::zeros({3})}, 0.01), 0.01 / 1e-12);
}

TEST(Darts, CosineScheduleOracle) {
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 0, 50), 0.025, 1e-12);
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 25, 50), 0.013, 1e-12);
  // The last epoch is above the floor by 0.024 * sin^2(pi / 100) (1 + cos(49 pi / 50) = 2 sin^2(pi / 100)).
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 49, 50), 0.001 + 0.024 * std::pow(std::sin(M_PI / 100), 2), 1e-15);
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 49, 50), 0.00102367925886, 1e-14);
}
