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

TEST(Darts, StepUpdatesBothAlphasAndWeights) {
  auto start = run(1, 5, 0);
  auto after = run(1, 5, 2);
  EXPECT_FALSE(torch::equal(start[0], after[0]));
  EXPECT_FALSE(torch::equal(start[1], after[1]));
  EXPECT_FALSE(torch::equal(start[2], after[2]));
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
  EXPECT_LT(arch.alpha_normal.abs().max().item<float>(), 1e-2f);
  EXPECT_GT(arch.alpha_normal.abs().max().item<float>(), 0.f);
  EXPECT_TRUE(arch.alpha_normal.requires_grad());
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
