// NASP (docs/methods.md 7): the spec's oracles for the proximal operators, edge selection, the
// mode keys, the complexity regulariser, which ops each step computes, and the box constraint.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "common/error_of.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/ops/op_names.h"
#include "dnas/search/nasp.h"
#include "search_fixtures.h"

using namespace dnas;

TEST(NaspProx, BoxThenDiscreteOnTheSpecVector) {
  auto boxed = search::prox_box(torch::tensor({{0.3, 0.9, -0.2, 1.4}}));
  EXPECT_TRUE(torch::allclose(boxed, torch::tensor({{0.3, 0.9, 0.0, 1.0}})));
  EXPECT_TRUE(torch::equal(search::prox_disc(boxed, false), torch::tensor({{0.0, 0.0, 0.0, 1.0}})));
  // keep_value: the selected entry keeps alpha's value.
  EXPECT_TRUE(
      torch::allclose(search::prox_disc(torch::tensor({{0.3, 0.9, 0.1}}), true), torch::tensor({{0.0, 0.9, 0.0}})));
}

TEST(NaspProx, TiesGoToTheLowestOp) {
  EXPECT_TRUE(
      torch::equal(search::prox_disc(torch::tensor({{1.0, 1.0, 0.2}}), false), torch::tensor({{1.0, 0.0, 0.0}})));
}

TEST(NaspProx, ProximalStepOfEachVariant) {
  const auto alpha = torch::tensor({{0.3, 1.4, -0.2}, {0.5, 0.2, 0.6}});
  auto step = [&](search::NaspVariant v) {
    auto a = alpha.clone();
    search::proximal_step(a, v);
    return a;
  };
  EXPECT_TRUE(torch::equal(step(search::NaspVariant::Nasp), torch::tensor({{0.3, 1.0, 0.0}, {0.5, 0.2, 0.6}})));
  EXPECT_TRUE(torch::equal(step(search::NaspVariant::Lazy), alpha));
  EXPECT_TRUE(torch::equal(step(search::NaspVariant::Standard), torch::tensor({{0.0, 1.0, 0.0}, {0.0, 0.0, 0.6}})));
}

TEST(NaspProx, ModesParseOnceAndNameTheKeyAndTheChoices) {
  EXPECT_EQ(search::parse_nasp_variant("standard"), search::NaspVariant::Standard);
  EXPECT_EQ(search::parse_nasp_discrete_value("alpha"), search::NaspDiscreteValue::Alpha);
  EXPECT_EQ(search::parse_nasp_derive("softmax"), search::NaspDerive::Softmax);
  const auto variant = dnas::testing::error_of([] { search::parse_nasp_variant("box"); });
  EXPECT_NE(variant.find("nasp.variant"), std::string::npos) << variant;
  EXPECT_NE(variant.find("nasp, lazy, standard"), std::string::npos) << variant;
  const auto value = dnas::testing::error_of([] { search::parse_nasp_discrete_value("two"); });
  EXPECT_NE(value.find("nasp.discrete_value"), std::string::npos) << value;
  EXPECT_NE(value.find("one, alpha"), std::string::npos) << value;
  const auto derive = dnas::testing::error_of([] { search::parse_nasp_derive("argmax"); });
  EXPECT_NE(derive.find("nasp.derive"), std::string::npos) << derive;
  // The strategy parses its modes when it is made, not in a step.
  search::NaspConfig bad;
  bad.variant = "box";
  const auto made = dnas::testing::error_of(
      [&] { search::NaspStrategy(dnas::testing::tiny_supernet_config("nasp7"), search::OptimConfig{}, bad); });
  EXPECT_NE(made.find("nasp.variant"), std::string::npos) << made;
}

TEST(NaspProx, StrongestEdgesPerNodeWithTiesToTheFirstListed) {
  // Node 0: edges 0, 1, 2 with selected alphas 0.4, 0.7, 0.7; node 1: edge 3 alone.
  const auto alpha = torch::tensor({{0.4, 0.1}, {0.2, 0.7}, {0.7, 0.3}, {0.1, 0.9}});
  const auto discrete = search::prox_disc(alpha, false);
  const std::vector<std::vector<int64_t>> nodes = {{0, 1, 2}, {3}};
  EXPECT_TRUE(torch::equal(search::keep_strongest_edges(discrete, alpha, nodes, 1),
                           torch::tensor({{0.0, 0.0}, {0.0, 1.0}, {0.0, 0.0}, {0.0, 1.0}})));
  EXPECT_TRUE(torch::equal(search::keep_strongest_edges(discrete, alpha, nodes, 2),
                           torch::tensor({{0.0, 0.0}, {0.0, 1.0}, {1.0, 0.0}, {0.0, 1.0}})));
}

TEST(NaspProx, EachNodeKeepsTheTwoEdgesWithTheLargestSelectedAlpha) {
  // Three steps; node 3 (edges j = 0, 1, 2) has selected alphas (0.9, 0.4, 0.7).
  const int64_t edges = genotype::num_edges(3);
  auto alpha = torch::full({edges, 2}, 0.1);
  alpha[genotype::edge_index(3, 0)][1] = 0.9;
  alpha[genotype::edge_index(3, 1)][0] = 0.4;
  alpha[genotype::edge_index(3, 2)][1] = 0.7;
  auto a = search::keep_top2_edges(search::prox_disc(alpha, false), alpha, 3);
  EXPECT_EQ(a[genotype::edge_index(3, 0)].sum().item<double>(), 1.0);
  EXPECT_EQ(a[genotype::edge_index(3, 1)].sum().item<double>(), 0.0);
  EXPECT_EQ(a[genotype::edge_index(3, 2)].sum().item<double>(), 1.0);
}

TEST(NaspProx, NegativeSelectedAlphasRankByTheirValue) {
  // The lazy variant leaves alpha unboxed: node 3's selected alphas (-0.3, -0.1, -0.5) keep edges
  // j = 1 and 0 (a product with the 0/1 mask once scored them all 0 and kept j = 0 and 1 by
  // position), and derive() emits the architecture that was trained.
  auto cfg = dnas::testing::tiny_supernet_config("nasp7");
  cfg.steps = 2;
  search::NaspConfig nasp_cfg;
  nasp_cfg.variant = "lazy";
  search::NaspStrategy nasp(cfg, search::OptimConfig{}, nasp_cfg);
  auto& alpha = nasp.alphas()[0];
  {
    torch::NoGradGuard no_grad;
    alpha.fill_(-1.0);
    alpha[genotype::edge_index(2, 0)][2] = -0.2;  // node 2 has only two inputs
    alpha[genotype::edge_index(2, 1)][3] = -0.4;
    alpha[genotype::edge_index(3, 0)][1] = -0.3;
    alpha[genotype::edge_index(3, 1)][4] = -0.1;
    alpha[genotype::edge_index(3, 2)][0] = -0.5;
  }
  auto a = nasp.discrete(0);
  EXPECT_EQ(a[genotype::edge_index(3, 0)][1].item<double>(), 1.0);
  EXPECT_EQ(a[genotype::edge_index(3, 1)][4].item<double>(), 1.0);
  EXPECT_EQ(a[genotype::edge_index(3, 2)].sum().item<double>(), 0.0);
  const auto ops = cfg.normal_ops;
  const auto g = nasp.derive();
  ASSERT_EQ(g.normal.nodes.size(), 2u);
  std::set<std::pair<std::string, int>> node3;
  for (const auto& gene : g.normal.nodes[1]) node3.insert({gene.op, gene.src});
  EXPECT_EQ(node3, (std::set<std::pair<std::string, int>>{{ops[1], 0}, {ops[4], 1}}));
}

TEST(NaspStrategy, AtInitEveryEdgeSelectsOpZeroAndNodesKeepInputsZeroAndOne) {
  auto cfg = dnas::testing::tiny_supernet_config("nasp12");
  cfg.steps = 4;
  search::NaspStrategy nasp(cfg, search::OptimConfig{}, search::NaspConfig{});
  auto a = nasp.discrete(0);  // [14, 8]
  for (int s = 2; s < 6; ++s)
    for (int j = 0; j < s; ++j) {
      const auto row = a[genotype::edge_index(s, j)];
      EXPECT_EQ(row.sum().item<double>(), j < 2 ? 1.0 : 0.0) << s << "," << j;
      if (j < 2) {
        EXPECT_EQ(row[0].item<double>(), 1.0);  // skip_connect
      }
    }
  const auto g = nasp.derive();
  EXPECT_EQ(g.normal.nodes[0][0].op, "skip_connect");
}

TEST(NaspComplexity, EightSepConvEdgesInTheNasp12NormalCell) {
  const auto ops = ops::op_set("nasp12", ops::CellType::Normal);
  auto a = torch::zeros({14, 8});
  const auto sep = std::find(ops.begin(), ops.end(), "sep_conv_3x3") - ops.begin();
  for (int e = 0; e < 8; ++e) a[e][sep] = 1.0;
  EXPECT_NEAR(search::nasp_complexity(a, ops).item<double>(), 8.0 * 504 / 5412, 1e-6);
  // Pooling-only reduction ops cost nothing.
  EXPECT_EQ(search::nasp_complexity(torch::ones({14, 5}), ops::op_set("nasp12", ops::CellType::Reduce)).item<double>(),
            0.0);
}

TEST(NaspStrategy, WeightStepRunsOnlyTheSelectedOpsAndAlphasStayInTheBox) {
  for (bool top2 : {true, false}) {
    torch::manual_seed(0);
    auto cfg = dnas::testing::tiny_supernet_config("darts7");  // 3 cells, 2 steps: 5 edges per cell
    search::NaspConfig nc;
    nc.edge_top2 = top2;
    search::NaspStrategy nasp(cfg, search::OptimConfig{}, nc);
    supernet::Supernet net(cfg);
    search::WeightTrainer weights(net, search::WeightOptions{});
    const auto batch = dnas::testing::random_batch(4);
    const int64_t before = net->evaluations();
    auto mix = nasp.inference_mix();
    weights.step(batch, mix);
    // 2 steps x 2 edges with top-2 = 4 ops per cell (all 5 edges without), against 5 x 7 for DARTS.
    EXPECT_EQ(net->evaluations() - before, (top2 ? 4 : 5) * cfg.layers) << top2;
    const int64_t before_step = net->evaluations();
    nasp.step(weights, {batch, dnas::testing::random_batch(4), {}}, {0, 10, 0.025});
    // Architecture step: every op of every edge (none excepted); weight step: the selected ones.
    EXPECT_EQ(net->evaluations() - before_step, 5 * 7 * cfg.layers + (top2 ? 4 : 5) * cfg.layers) << top2;
    for (const auto& a : nasp.alphas()) {
      EXPECT_GE(a.min().item<double>(), 0.0);
      EXPECT_LE(a.max().item<double>(), 1.0);
    }
  }
}

// NASP's architecture gradient, taken with only the selected ops under autograd, equals dL/dA of a
// plain autograd run with every op on, on the same batch (BN in eval mode): the unselected ops'
// entries are non-zero and exact, not merely "moved".
TEST(NaspStrategy, ArchitectureGradientEqualsFullAutograd) {
  torch::manual_seed(1);
  auto cfg = dnas::testing::tiny_supernet_config("darts7");
  search::NaspConfig nc;
  nc.eta = 0.5;
  search::NaspStrategy nasp(cfg, search::OptimConfig{}, nc);
  {
    torch::NoGradGuard no_grad;  // a non-trivial architecture: random alphas in the box
    for (auto& a : nasp.alphas()) a.uniform_(0.0, 1.0);
  }
  supernet::Supernet net(cfg);
  net->eval();
  const auto batch = dnas::testing::random_batch(6);
  search::BatchStats stats;
  const auto ours = nasp.architecture_gradient(net, batch, stats);
  std::vector<torch::Tensor> a = {ours.discrete[0].detach().clone().requires_grad_(),
                                  ours.discrete[1].detach().clone().requires_grad_()};
  auto loss =
      torch::cross_entropy_loss(net->forward(batch.x, {supernet::soft_mix(a[0]), supernet::soft_mix(a[1])}), batch.y) +
      nc.eta * (search::nasp_complexity(a[0], cfg.normal_ops) + search::nasp_complexity(a[1], cfg.reduce_ops));
  const auto full = torch::autograd::grad({loss}, a);
  for (size_t c = 0; c < 2; ++c) {
    EXPECT_TRUE(torch::allclose(ours.grads[c], full[c], 1e-5, 1e-7)) << c << "\n" << ours.grads[c] - full[c];
    // The unselected entries (weight 0) carry real gradient too.
    EXPECT_GT((ours.grads[c] * a[c].detach().eq(0)).abs().gt(0).sum().item<int64_t>(), 10) << c;
  }
  EXPECT_NEAR(stats.loss(),
              loss.item<double>() - nc.eta * (search::nasp_complexity(a[0], cfg.normal_ops) +
                                              search::nasp_complexity(a[1], cfg.reduce_ops))
                                                 .item<double>(),
              1e-6);
}

TEST(NaspStrategy, VariantsDifferAtTheTopOfTheBox) {
  auto run = [](const std::string& variant, double init) {
    torch::manual_seed(1);
    auto cfg = dnas::testing::tiny_supernet_config("darts7");
    search::NaspConfig nc;
    nc.variant = variant;
    search::NaspStrategy nasp(cfg, search::OptimConfig{}, nc);
    {
      torch::NoGradGuard no_grad;
      for (auto& a : nasp.alphas()) a.fill_(init);
    }
    search::WeightTrainer weights(supernet::Supernet(cfg), search::WeightOptions{});
    for (int i = 0; i < 3; ++i)
      nasp.step(weights, {dnas::testing::random_batch(4), dnas::testing::random_batch(4), {}}, {0, 10, 0.025});
    return nasp.alphas()[0].detach().clone();
  };
  // At the top of the box: NASP clips, the lazy proximal variant lets alpha leave [0, 1].
  EXPECT_LE(run("nasp", 1.0).max().item<double>(), 1.0);
  EXPECT_GT(run("lazy", 1.0).max().item<double>(), 1.0);
  auto standard = run("standard", 0.5);  // stays on C: one non-zero entry per edge, in [0, 1]
  EXPECT_TRUE(standard.ne(0).sum(-1).eq(1).all().item<bool>()) << standard;
  EXPECT_TRUE(standard.ge(0).logical_and(standard.le(1)).all().item<bool>()) << standard;
}

// Standard PA (Eq. 9): alpha <- prox_C(alpha - eps * g), prox_C = keep the largest entry of
// clip(., 0, 1) at its value. With a constant gradient Adam's step is exactly arch_lr * sign(g),
// so the selected op loses 0.1 per step and the op whose gradient is negative takes over once
// its single step (0.1) exceeds the selected value: after the 4th step here, not before.
TEST(NaspStrategy, StandardProximalStepMovesOnTheDiscreteBoxSet) {
  auto cfg = dnas::testing::tiny_supernet_config("darts7");
  search::OptimConfig optim;
  optim.arch_lr = 0.1;
  optim.arch_weight_decay = 0.0;
  search::NaspConfig nc;
  nc.variant = "standard";
  search::NaspStrategy nasp(cfg, optim, nc);
  auto start = [&](double value) {
    torch::NoGradGuard no_grad;
    for (auto& a : nasp.alphas()) {
      a.zero_();
      a.select(1, 0).fill_(value);
    }
  };
  std::vector<torch::Tensor> grads;
  for (const auto& a : nasp.alphas()) {
    auto g = torch::zeros_like(a);
    g.select(1, 0).fill_(1.0);
    g.select(1, 1).fill_(-1.0);
    grads.push_back(g);
  }
  // The optimizer zeroes the gradient it was given at its next step: a fresh copy each time.
  auto fresh = [&] {
    std::vector<torch::Tensor> out;
    for (const auto& g : grads) out.push_back(g.clone());
    return out;
  };
  start(0.45);
  const double expected_selected[] = {0.35, 0.25, 0.15};
  for (double value : expected_selected) {
    nasp.arch_update(fresh());
    for (const auto& a : nasp.alphas()) {
      EXPECT_NEAR(a.select(1, 0).min().item<double>(), value, 1e-6);
      EXPECT_NEAR(a.select(1, 0).max().item<double>(), value, 1e-6);
      EXPECT_EQ(a.ne(0).sum().item<int64_t>(), a.size(0)) << a;  // the other entries projected to 0
    }
  }
  nasp.arch_update(fresh());  // 0.05 < 0.1: op 1 is selected, at its one-step value
  for (const auto& a : nasp.alphas()) {
    EXPECT_TRUE(a.argmax(-1).eq(1).all().item<bool>()) << a;
    EXPECT_NEAR(a.select(1, 1).min().item<double>(), 0.1, 1e-6);
    EXPECT_EQ(a.ne(0).sum().item<int64_t>(), a.size(0)) << a;
  }
  // The box: a step past 1 is clipped to 1 (a fresh strategy: Adam's moments start at zero).
  search::NaspStrategy top(cfg, optim, nc);
  {
    torch::NoGradGuard no_grad;
    for (auto& a : top.alphas()) {
      a.zero_();
      a.select(1, 0).fill_(0.95);
    }
  }
  for (auto& g : grads) g.select(1, 0).fill_(-1.0);
  top.arch_update(fresh());
  for (const auto& a : top.alphas()) EXPECT_NEAR(a.select(1, 0).min().item<double>(), 1.0, 1e-7) << a;
}

TEST(NaspConfig, AnOpSetWithNoneIsRejectedWithTheKey) {
  search::SearchConfig c;
  c.run.method = "nasp";  // default op set darts8 starts with `none`
  const auto message = dnas::testing::error_of([&] { search::validate(c); });
  EXPECT_NE(message.find("supernet.op_set"), std::string::npos) << message;
  c.supernet.op_set = "nasp12";
  EXPECT_NO_THROW(search::validate(c));
}
