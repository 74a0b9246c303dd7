// Stretchable Cells (docs/methods.md 6): merged edge scales, code enumeration, the regulariser and
// the derivation with its orphan rule, on the spec's hand examples; a step's alpha and beta
// gradients against plain autograd of the spec's loss terms.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "dnas/eval/eval_network.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/genotype.h"
#include "dnas/search/sc.h"
#include "dnas/search/strategy_factory.h"
#include "search_fixtures.h"

using namespace dnas;
using genotype::edge_index;
using search::ScTopology;
using search::ScTopologySettings;

namespace {

std::vector<torch::Tensor> uniform(const ScTopology& t) {
  std::vector<torch::Tensor> out;
  for (int64_t n : t.logit_sizes()) out.push_back(torch::zeros({n}));
  return out;
}

// Logits with softmax `p` over the codes of a chooser (index = code - 1).
torch::Tensor logits_of(const std::vector<double>& p) { return torch::tensor(p).log(); }

ScTopologySettings with(const std::string& variant, const std::string& perspective = "output",
                        const std::string& orphan = "drop") {
  ScTopologySettings s;
  s.variant = search::parse_sc_variant(variant);
  s.perspective = search::parse_sc_perspective(perspective);
  s.orphan = search::parse_sc_orphan(orphan);
  return s;
}

}  // namespace

TEST(ScTopology, CodeCountsAreTwoToTheDMinusOnePerState) {
  ScTopology four(4, with("stretchable")), six(6, with("stretchable"));
  EXPECT_EQ(four.logit_sizes(), (std::vector<int64_t>{15, 15, 7, 3, 1}));
  EXPECT_EQ(six.logit_sizes(), (std::vector<int64_t>{63, 63, 31, 15, 7, 3, 1}));
  int64_t total = 0;
  for (auto n : six.logit_sizes()) total += n;
  EXPECT_EQ(total, 183);
  EXPECT_EQ(genotype::num_edges(4), 14);
  EXPECT_EQ(genotype::num_edges(6), 27);
  ScTopologySettings empty = with("stretchable");
  empty.allow_empty_code = true;
  EXPECT_EQ(ScTopology(4, empty).logit_sizes(), (std::vector<int64_t>{16, 16, 8, 4, 2}));
  // fixed2: C(d, 2) pairs for states with d >= 2.
  EXPECT_EQ(ScTopology(4, with("fixed2")).logit_sizes(), (std::vector<int64_t>{6, 6, 3, 1}));
}

TEST(ScTopology, UniformBetaGivesEveryScaleOne) {
  for (int steps : {4, 6}) {
    ScTopology t(steps, with("stretchable"));
    EXPECT_TRUE(torch::allclose(t.edge_scales(uniform(t)), torch::ones({genotype::num_edges(steps)}))) << steps;
  }
  ScTopologySettings empty = with("stretchable");
  empty.allow_empty_code = true;
  ScTopology with_empty(4, empty);
  EXPECT_TRUE(torch::allclose(with_empty.edge_scales(uniform(with_empty)), torch::ones({14})));
  ScTopology fixed(4, with("fixed2"));
  auto s = fixed.edge_scales(uniform(fixed));
  const auto present = fixed.present_edges();
  for (int e = 0; e < 14; ++e) EXPECT_NEAR(s[e].item<double>(), present[static_cast<size_t>(e)] ? 1.0 : 0.0, 1e-6) << e;
  EXPECT_FALSE(present[static_cast<size_t>(edge_index(5, 4))]);  // state 4 has d = 1: no output edge
}

TEST(ScTopology, TwoMemberStateHandExample) {
  // State 3 feeds {4, 5}: codes 1 = {4}, 2 = {5}, 3 = {4, 5}; p = (0.5, 0.25, 0.25).
  ScTopology t(4, with("stretchable"));
  auto logits = uniform(t);
  logits[3] = logits_of({0.5, 0.25, 0.25});
  auto s = t.edge_scales(logits);
  EXPECT_NEAR(s[edge_index(4, 3)].item<double>(), 1.5 * 0.75, 1e-6);
  EXPECT_NEAR(s[edge_index(5, 3)].item<double>(), 1.5 * 0.5, 1e-6);
  // The one-member state (4 -> 5) always has scale 1.
  logits[4] = torch::tensor({3.0});
  EXPECT_NEAR(t.edge_scales(logits)[edge_index(5, 4)].item<double>(), 1.0, 1e-6);
}

TEST(ScTopology, InputPerspectiveGivesEveryNodeTwoInputsWorthOfScale) {
  ScTopology t(4, with("stretchable", "input"));
  torch::manual_seed(0);
  std::vector<torch::Tensor> logits;
  for (int64_t n : t.logit_sizes()) logits.push_back(torch::randn({n}));
  auto s = t.edge_scales(logits);
  for (int j = 2; j < 6; ++j) {
    double total = 0;
    for (int i = 0; i < j; ++i) total += s[edge_index(j, i)].item<double>();
    EXPECT_NEAR(total, 2.0, 1e-5) << j;  // sum over pairs containing i of p_j
  }
  EXPECT_EQ(t.regularizer(logits).item<double>(), 0.0);
}

TEST(ScRegularizer, ZeroForAValidTopologyAndTheSpecValueForAnOrphan) {
  ScTopology t(4, with("stretchable"));
  EXPECT_EQ(t.regularizer(uniform(t)).item<double>(), 0.0);
  // States 0 and 1 pick code 14 = {3, 4, 5} (bit 0 is state 2): state 2 gets no argmax input.
  auto spread = [](double top, double best_with_2, double other_odd) {
    std::vector<double> p(15, 0.0);
    p[13] = top;  // code 14
    double rest = 1.0 - top - best_with_2 - 7 * other_odd;
    for (int code = 1; code <= 15; ++code) {
      if (code == 14) continue;
      if (code % 2 == 1)
        p[static_cast<size_t>(code - 1)] = code == 1 ? best_with_2 : other_odd;
      else
        p[static_cast<size_t>(code - 1)] = rest / 6;
    }
    return p;
  };
  auto logits = uniform(t);
  logits[0] = logits_of(spread(0.3, 0.15, 0.05));
  logits[1] = logits_of(spread(0.2, 0.1, 0.06));
  const double r = t.regularizer(logits).item<double>();
  EXPECT_NEAR(r, (1 - 0.15 / 0.3) * (1 - 0.1 / 0.2), 1e-6);
  EXPECT_NEAR(10 * r, 2.5, 1e-5);
  // The gradient flows to the selected maxima only: with p = softmax(b0), d(p_m / p_t)/db0_k =
  // (p_m / p_t)(delta_km - delta_kt), so dr/db0 = -(1 - 0.1/0.2) * 0.5 * (e_m - e_t) with m = code 1
  // (the best code containing state 2) and t = code 14 (the overall maximum); other terms are 0.
  auto b0 = logits[0].clone().requires_grad_();
  logits[0] = b0;
  auto g = torch::autograd::grad({t.regularizer(logits)}, {b0})[0];
  auto expected = torch::zeros({15}, torch::kDouble);
  expected[0] = -0.25;
  expected[13] = 0.25;
  EXPECT_TRUE(torch::allclose(g.to(torch::kDouble), expected, 0.0, 1e-6)) << g;
}

TEST(ScDerive, OrphanIsDroppedWithItsOutgoingEdgesOrRepaired) {
  const std::vector<std::string> ops = {"skip_connect", "sep_conv_3x3"};
  auto alpha = torch::zeros({14, 2});
  alpha.select(1, 1).fill_(1.0);  // sep_conv_3x3 everywhere
  auto orphaned = [](ScTopology& t) {
    auto logits = uniform(t);
    logits[0] = torch::zeros({15});
    logits[0][13] = 5.0;  // state 0 -> {3, 4, 5}
    logits[1] = torch::zeros({15});
    logits[1][13] = 5.0;  // state 1 -> {3, 4, 5}
    logits[2] = torch::zeros({7});
    logits[2][6] = 5.0;  // state 2 -> {3, 4, 5}, but state 2 has no input
    logits[3] = torch::zeros({3});
    logits[3][0] = 5.0;  // state 3 -> {4}
    return logits;
  };
  ScTopology drop(4, with("stretchable"));
  auto cell = drop.derive(orphaned(drop), alpha, ops);
  EXPECT_TRUE(cell.nodes[0].empty());  // node 2 dropped
  EXPECT_EQ(cell.concat, (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(cell.nodes[1], (std::vector<genotype::Gene>{{"sep_conv_3x3", 0}, {"sep_conv_3x3", 1}}));  // no edge from 2
  EXPECT_EQ(cell.nodes[2].size(), 3u);                                                                // 0, 1, 3 -> 4
  EXPECT_EQ(cell.nodes[3].size(), 3u);  // 0, 1, 4 -> 5 (state 3 chose {4} only)
  // Variable in-degree round-trips through the genotype text.
  genotype::Genotype g{cell, cell};
  EXPECT_EQ(genotype::parse_genotype(genotype::to_string(g), "test"), g);

  ScTopology repair(4, with("stretchable", "output", "repair"));
  auto fixed = repair.derive(orphaned(repair), alpha, ops);
  EXPECT_EQ(fixed.nodes[0].size(), 1u);  // one edge added into node 2
  EXPECT_EQ(fixed.concat, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(fixed.nodes[1].size(), 3u);  // 0, 1, 2 -> 3
}

TEST(ScDerive, FixedVariantKeepsEightEdgesLikeDarts) {
  ScTopology t(4, with("fixed2"));
  torch::manual_seed(3);
  std::vector<torch::Tensor> logits;
  for (int64_t n : t.logit_sizes()) logits.push_back(torch::randn({n}));
  auto cell = t.derive(logits, torch::randn({14, 7}), ops::op_set("darts7", ops::CellType::Normal));
  size_t edges = 0;
  for (const auto& node : cell.nodes) edges += node.size();
  EXPECT_LE(edges, 8u);  // 4 states x 2 outputs; fewer only if an orphan was dropped
  EXPECT_GE(edges, 6u);
}

TEST(ScStrategy, MilenasScSplitsThreeWaysOnlyForItsImagenetSearch) {
  search::SearchConfig c;
  auto net = dnas::testing::tiny_supernet_config("darts7");
  for (const char* method : {"darts_sc", "milenas_sc"})
    for (const char* dataset : {"cifar10", "imagenet"}) {
      c.run.method = method;
      c.data.dataset = dataset;
      const int expected = std::string(method) == "milenas_sc" && std::string(dataset) == "imagenet" ? 2 : 1;
      EXPECT_EQ(search::make_strategy(c, net)->needs().validation_splits, expected) << method << " " << dataset;
    }
  c.sc.val_split = "separate";
  c.data.dataset = "cifar10";
  EXPECT_EQ(search::make_strategy(c, net)->needs().validation_splits, 2);
}

// The architecture gradients of one step, against plain autograd on the same supernet at the same
// w (docs/methods.md 6): DARTS-SC g_a = dL_val(B_val)/da, g_b = dL_val(B_val or B_val_beta)/db + lambda dr/db;
// MiLeNAS-SC g_a = dL_tr/da + lambda' dL_val(B_val)/da, g_b = dL_tr/db + lambda' dL_val(B_val or
// B_val_beta)/db + lambda dr/db. The betas are set so that r > 0: every term changes the result.
TEST(ScStrategy, StepGradientsAreTheSpecsLossTermsByPlainAutograd) {
  const double kLambda = 3.0;       // sc.lambda (not the default 10, so a hard-coded weight shows)
  const double kLambdaPrime = 0.7;  // MiLeNAS lambda' (not 1, so a missing factor shows)
  for (const auto base : {search::ScBase::Darts, search::ScBase::Milenas})
    for (const char* split : {"shared", "separate"}) {
      const bool milenas = base == search::ScBase::Milenas, separate = std::string(split) == "separate";
      torch::manual_seed(4);
      auto cfg = dnas::testing::tiny_supernet_config("darts7");  // 2 steps: choosers of 3, 3 and 1 codes
      search::ScConfig sc_cfg;
      sc_cfg.val_split = split;
      sc_cfg.lambda = kLambda;
      const search::OptimConfig optim;
      search::ScStrategy sc(base, cfg, optim, sc_cfg, kLambdaPrime);
      ASSERT_EQ(sc.needs().validation_splits, separate ? 2 : 1);
      ASSERT_EQ(sc.topology().logit_sizes(), (std::vector<int64_t>{3, 3, 1}));
      {
        // States 0 and 1 both prefer code 2 = {3}: node 2 gets no argmax input, so r > 0.
        torch::NoGradGuard no_grad;
        sc.betas()[0][0].copy_(logits_of({0.2, 0.5, 0.3}));
        sc.betas()[0][1].copy_(logits_of({0.25, 0.45, 0.3}));
        sc.betas()[1][0].copy_(logits_of({0.1, 0.6, 0.3}));
        sc.betas()[1][1].copy_(logits_of({0.3, 0.4, 0.3}));
      }
      // r = (1 - 0.3/0.5)(1 - 0.3/0.45) + (1 - 0.3/0.6)(1 - 0.3/0.4) (Eq. 14-15 by hand).
      ASSERT_NEAR(sc.regularizer().item<double>(), 0.4 / 3 + 0.125, 1e-6);
      search::WeightTrainer weights(supernet::Supernet(cfg), search::WeightOptions{});
      const search::StepBatches b{dnas::testing::random_batch(4), dnas::testing::random_batch(4),
                                  dnas::testing::random_batch(4)};

      // By hand, before the step (the weight step comes after the architecture step).
      std::vector<torch::Tensor> params = sc.arch().list();  // alpha_normal, alpha_reduce, then the betas
      for (const auto& cell : sc.betas()) params.insert(params.end(), cell.begin(), cell.end());
      const auto start = dnas::testing::snapshot(params);
      const auto leaves = dnas::testing::leaf_copies(params);
      const size_t per_cell = 3;
      auto betas_of = [&](size_t c) {
        return std::vector<torch::Tensor>(leaves.begin() + 2 + static_cast<long>(c * per_cell),
                                          leaves.begin() + 2 + static_cast<long>((c + 1) * per_cell));
      };
      auto mix = [&] {
        auto cell = [&](size_t c) {
          supernet::CellMix m = supernet::soft_mix(torch::softmax(leaves[c], -1));
          m.edge_scale = sc.topology().edge_scales(betas_of(c));  // [E]; hand-checked above
          return m;
        };
        return supernet::ArchMix{cell(0), cell(1)};
      };
      auto grads_on = [&](const search::TensorBatch& batch) {
        const auto loss = torch::cross_entropy_loss(weights.net->forward(batch.x, mix()), batch.y);
        return dnas::testing::grads_of(loss, leaves);
      };
      const auto g_tr = grads_on(b.train), g_val = grads_on(b.val), g_val_beta = grads_on(b.val_beta);
      const auto g_r = dnas::testing::grads_of(
          sc.topology().regularizer(betas_of(0)) + sc.topology().regularizer(betas_of(1)), leaves);
      const double val_weight = milenas ? kLambdaPrime : 1.0;
      std::vector<torch::Tensor> expected;
      for (size_t i = 0; i < leaves.size(); ++i) {
        const bool alpha = i < 2;
        auto g = val_weight * (alpha || !separate ? g_val[i] : g_val_beta[i]);
        if (milenas) g = g + g_tr[i];
        if (!alpha) g = g + kLambda * g_r[i];
        expected.push_back(g);
      }

      sc.step(weights, b, {0, 10, 0.025});
      std::vector<torch::Tensor> got, moved_to, adam;
      for (size_t i = 0; i < params.size(); ++i) {
        got.push_back(params[i].grad());
        moved_to.push_back(params[i].detach());
        adam.push_back(dnas::testing::adam_first_step(start[i], expected[i], optim));
      }
      const std::string what = std::string(milenas ? "milenas" : "darts") + " " + split;
      const std::vector<torch::Tensor> got_beta(got.begin() + 2, got.end());
      const std::vector<torch::Tensor> expected_beta(expected.begin() + 2, expected.end());
      EXPECT_LT(dnas::testing::max_relative_difference({got[0], got[1]}, {expected[0], expected[1]}), 1e-5) << what;
      EXPECT_LT(dnas::testing::max_relative_difference(got_beta, expected_beta), 1e-5) << what;
      // Both Adam optimizers stepped with exactly these gradients.
      for (size_t i = 0; i < params.size(); ++i)
        EXPECT_TRUE(torch::allclose(moved_to[i], adam[i], 0.0, 1e-3 * optim.arch_lr)) << what << " parameter " << i;
      EXPECT_NO_THROW(genotype::parse_genotype(genotype::to_string(sc.derive()), "sc")) << what;
    }
}

TEST(ScDerive, SixNodeCellsWithAnyInDegreeBuildAnEvaluationNetwork) {
  // A 9-node (6 intermediates) stretchable cell, retrained with as many cells as the search.
  ScTopology t(6, with("stretchable"));
  torch::manual_seed(5);
  std::vector<torch::Tensor> logits;
  for (int64_t n : t.logit_sizes()) logits.push_back(3 * torch::randn({n}));
  const auto ops = ops::op_set("darts7", ops::CellType::Normal);
  auto cell = t.derive(logits, torch::randn({27, 7}), ops);
  ASSERT_EQ(cell.steps(), 6);
  eval::EvalNetworkConfig cfg;
  cfg.channels = 4;
  cfg.layers = 5;
  cfg.auxiliary = false;
  eval::EvalNetwork net(genotype::Genotype{cell, cell}, cfg);
  net->eval();
  EXPECT_EQ(net->forward(torch::randn({2, 3, 16, 16})).logits.sizes(), (std::vector<int64_t>{2, 10}));
}
