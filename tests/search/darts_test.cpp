#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/genotype/derive.h"
#include "dnas/search/darts.h"
#include "dnas/search/search_config.h"
#include "search/search_fixtures.h"

using namespace dnas;
using dnas::testing::random_batch;
using dnas::testing::tiny_supernet_config;

namespace {

// Runs `steps` DARTS iterations from seed `seed`; returns the final alphas and one weight.
std::vector<torch::Tensor> run(int order, uint64_t seed, int steps) {
  torch::manual_seed(seed);
  auto cfg = tiny_supernet_config();
  supernet::Supernet net(cfg);
  search::WeightTrainer weights(net, {});
  search::DartsStrategy darts(order, cfg, search::OptimConfig{});
  auto train = random_batch(4), val = random_batch(4);
  for (int i = 0; i < steps; ++i) darts.step(weights, {train, val, {}}, search::EpochInfo{});
  return {darts.arch().alpha_normal.detach().clone(), darts.arch().alpha_reduce.detach().clone(),
          net->parameters()[0].detach().clone()};
}

}  // namespace

TEST(Darts, FirstOrderGradientIsTheValidationLossGradient) {
  torch::manual_seed(1);
  auto cfg = tiny_supernet_config();
  supernet::Supernet net(cfg);
  search::WeightTrainer weights(net, {});
  search::DartsStrategy darts(1, cfg, search::OptimConfig{});
  auto val = random_batch(4);
  auto g = darts.first_order_gradient(weights, val);
  auto& a = darts.arch();
  auto logits = net->forward(val.x, {supernet::soft_mix(torch::softmax(a.alpha_normal, -1)),
                                     supernet::soft_mix(torch::softmax(a.alpha_reduce, -1))});
  auto expected = torch::autograd::grad({torch::cross_entropy_loss(logits, val.y)}, a.list());
  EXPECT_TRUE(torch::allclose(g[0], expected[0], 1e-5, 1e-8));
  EXPECT_TRUE(torch::allclose(g[1], expected[1], 1e-5, 1e-8));
  // the `none` column gets a gradient only through the softmax coupling, not zero
  EXPECT_GT(g[0].abs().sum().item<double>(), 0.0);
}

// One first-order step by hand: Adam's first step on g_alpha = dL_val/dalpha (plain autograd), then
// WeightTrainer's first SGD step on dL_train/dw under softmax of the updated alphas.
TEST(Darts, FirstOrderStepIsAdamOnTheValidationGradientThenSgdOnTheTrainingGradient) {
  torch::manual_seed(5);
  auto cfg = tiny_supernet_config();
  supernet::Supernet net(cfg);
  const search::WeightOptions wopt;
  search::WeightTrainer weights(net, wopt);
  const search::OptimConfig optim;
  search::DartsStrategy darts(1, cfg, optim);
  auto train = random_batch(4), val = random_batch(4);
  auto& a = darts.arch();
  auto mix = [](const std::vector<torch::Tensor>& alpha) {
    return supernet::ArchMix{supernet::soft_mix(torch::softmax(alpha[0], -1)),
                             supernet::soft_mix(torch::softmax(alpha[1], -1))};
  };
  const auto alpha0 = dnas::testing::snapshot(a.list());
  const auto leaves = dnas::testing::leaf_copies(a.list());
  const auto g_alpha =
      dnas::testing::grads_of(torch::cross_entropy_loss(net->forward(val.x, mix(leaves)), val.y), leaves);
  const std::vector<torch::Tensor> alpha1 = {dnas::testing::adam_first_step(alpha0[0], g_alpha[0], optim),
                                             dnas::testing::adam_first_step(alpha0[1], g_alpha[1], optim)};
  const auto params = net->parameters();
  const auto w0 = dnas::testing::snapshot(params);
  const auto g_w = dnas::testing::grads_of(torch::cross_entropy_loss(net->forward(train.x, mix(alpha1)), train.y),
                                           params, /*zeros_for_unused=*/false);
  const auto w1 = dnas::testing::first_sgd_step(w0, g_w, wopt);

  darts.step(weights, {train, val, {}}, search::EpochInfo{});
  EXPECT_LT(dnas::testing::max_relative_difference({a.alpha_normal.grad(), a.alpha_reduce.grad()}, g_alpha), 1e-5);
  for (size_t k = 0; k < 2; ++k)
    EXPECT_TRUE(torch::allclose(a.list()[k].detach(), alpha1[k], 0.0, 1e-3 * optim.arch_lr)) << "cell type " << k;
  // The weights: the gradient term (lr * g, about 1e-4 here) dominates the tolerance, so weight
  // decay alone (or a step at the old alphas) would not pass.
  EXPECT_LT(dnas::testing::max_relative_difference(params, w1), 1e-5);
  double step = 0;
  for (size_t i = 0; i < params.size(); ++i) step = std::max(step, (w1[i] - w0[i]).abs().max().item<double>());
  EXPECT_GT(step, 1e-4);
}

TEST(Darts, SameSeedSameResultBothOrders) {
  for (int order : {1, 2}) {
    auto a = run(order, 11, 2), b = run(order, 11, 2), c = run(order, 12, 2);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "order " << order;
    EXPECT_FALSE(torch::equal(a[0], c[0]));
  }
}

TEST(Darts, AlphaInitIsSmallAndSeparateFromWeights) {
  torch::manual_seed(0);
  search::ArchParameters arch(14, 8, 8, search::OptimConfig{});
  EXPECT_EQ(arch.alpha_normal.sizes(), (std::vector<int64_t>{14, 8}));
  EXPECT_TRUE(arch.alpha_normal.requires_grad());
  // 1e-3 * N(0, 1), normal first, from the generator's sequence.
  torch::manual_seed(0);
  const auto normal = 1e-3 * torch::randn({14, 8});
  const auto reduce = 1e-3 * torch::randn({14, 8});
  EXPECT_TRUE(torch::equal(arch.alpha_normal.detach(), normal));
  EXPECT_TRUE(torch::equal(arch.alpha_reduce.detach(), reduce));
}

TEST(Darts, OutputEdgeDerivationFollowsTheOutputRuleOfTheSameWeights) {
  torch::manual_seed(3);
  auto cfg = tiny_supernet_config();
  search::OptimConfig optim;
  optim.derive_edges = "output";
  search::DartsStrategy darts(1, cfg, optim);
  {
    torch::NoGradGuard no_grad;
    darts.arch().alpha_normal.normal_(0, 2);
    darts.arch().alpha_reduce.normal_(0, 2);
  }
  std::vector<double> strength;
  std::vector<std::string> op;
  genotype::strongest_ops(torch::softmax(darts.arch().alpha_normal, -1), cfg.normal_ops, static_cast<int>(cfg.steps),
                          strength, op);
  const auto g = darts.derive();
  EXPECT_EQ(g.normal, genotype::derive_output_edges(strength, op, static_cast<int>(cfg.steps)));
  // ... which differs from the input rule on the same weights.
  EXPECT_NE(g.normal, genotype::derive_darts(torch::softmax(darts.arch().alpha_normal, -1), cfg.normal_ops,
                                             static_cast<int>(cfg.steps)));
  for (const auto& node : g.normal.nodes)
    for (const auto& gene : node) EXPECT_NE(gene.op, "none");
}

TEST(Darts, OutputEdgesAreADartsOption) {
  search::SearchConfig c;
  c.run.method = "gdas";
  c.optim.derive_edges = "output";
  try {
    search::validate(c);
    FAIL() << "accepted";
  } catch (const dnas::Error& e) {
    EXPECT_NE(std::string(e.what()).find("search.derive_edges"), std::string::npos);
  }
}
