// The second-order DARTS hypergradient (finite-difference Hessian-vector product) against an
// exact computation by double backprop, in float64 on a tiny supernet.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/op_names.h"
#include "dnas/search/darts.h"
#include "dnas/loop/schedule.h"
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

TEST(Darts, FiniteDifferenceEpsilonOracle) {
  // ||v|| = 2 gives eps = 0.01 / 2
  std::vector<torch::Tensor> v{torch::tensor({1.0, 1.0}), torch::tensor({1.0, 1.0})};
  EXPECT_DOUBLE_EQ(search::finite_difference_epsilon(v, 0.01), 0.005);
  EXPECT_DOUBLE_EQ(search::OptimConfig{}.hessian_radius, 0.01);
}

TEST(Darts, CosineScheduleOracle) {
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 0, 50), 0.025, 1e-12);
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 25, 50), 0.013, 1e-12);
  // The last epoch is above the floor by 0.024 * sin^2(pi / 100) (1 + cos(49 pi / 50) = 2 sin^2(pi / 100)).
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 49, 50), 0.001 + 0.024 * std::pow(std::sin(M_PI / 100), 2), 1e-15);
  EXPECT_NEAR(loop::cosine_lr(0.025, 0.001, 49, 50), 0.00102367925886, 1e-14);
}
