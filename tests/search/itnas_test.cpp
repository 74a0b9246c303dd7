// ITNAS (docs/methods.md 5): the spec's oracles for edge groups, the transition recursion, TIEP and
// the temperature, finite-difference gradients through the inner edges, and where a step draws
// its Gumbel noise (outer edges only; a fresh sample for the weight step).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "common/error_of.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"
#include "dnas/genotype/genotype.h"
#include "dnas/ops/op_names.h"
#include "dnas/search/itnas.h"
#include "dnas/search/search_config.h"
#include "search_fixtures.h"

using namespace dnas;
using search::edge_groups;

namespace {

supernet::SupernetConfig darts7_cell(int steps = 4) {
  auto cfg = dnas::testing::tiny_supernet_config("darts7");
  cfg.steps = steps;
  return cfg;
}

// Logits whose softmax is exactly `probs` (up to rounding): log(p).
torch::Tensor logits(std::vector<double> probs, std::vector<int64_t> shape) {
  return torch::tensor(probs, torch::kDouble).log().reshape(shape);
}

// Edge weights [E, O] by hand (docs/methods.md 5, Eq. 9-11): outer edges carry `outer` (rows in
// outer-edge order); every inner edge q = (j -> s), in canonical order, gets
// sum_k softmax_k(a_{k->q}) * (w_k rowsoftmax(Z_{k->q})) over the edges k entering state j, where
// outer predecessors pass `passed` and inner ones their own weights; pairs are numbered edge by
// edge, predecessor by predecessor.
torch::Tensor transition_by_hand(int steps, const torch::Tensor& outer, const torch::Tensor& passed,
                                 const torch::Tensor& z, const torch::Tensor& a) {
  const auto edges = static_cast<size_t>(genotype::num_edges(steps));
  std::vector<torch::Tensor> own(edges), pass(edges);
  const auto t = torch::softmax(z, -1);  // [P, O, O]
  int64_t row = 0, pair = 0;
  for (int s = 2; s < steps + 2; ++s)
    for (int j = 0; j < s; ++j) {
      const auto e = static_cast<size_t>(genotype::edge_index(s, j));
      if (j < 2) {
        own[e] = outer[row];
        pass[e] = passed[row];
        ++row;
        continue;
      }
      const auto attention = torch::softmax(a.narrow(0, pair, j), 0);  // over the j edges into state j
      auto w = torch::zeros_like(outer[0]);
      for (int k = 0; k < j; ++k)
        w = w + attention[k] * torch::matmul(pass[static_cast<size_t>(genotype::edge_index(j, k))], t[pair + k]);
      own[e] = pass[e] = w;
      pair += j;
    }
  return torch::stack(own);
}

void randomize(search::ItnasStrategy& itnas, double sd) {  // away from the near-uniform init
  torch::NoGradGuard no_grad;
  for (auto& c : itnas.parameters()) {
    c.theta.normal_(0, sd);
    c.z.normal_(0, sd);
    c.a.normal_(0, sd);
  }
}

genotype::CellGenotype cell(std::vector<std::vector<genotype::Gene>> nodes) {
  genotype::CellGenotype c;
  c.nodes = std::move(nodes);
  for (int s = 2; s < c.steps() + 2; ++s) c.concat.push_back(s);
  return c;
}

}  // namespace

TEST(ItnasEdgeGroups, EightOuterSixInnerAndSixteenPairsForFourSteps) {
  auto g = edge_groups(4);
  EXPECT_EQ(g.outer, (std::vector<int>{0, 1, 2, 3, 5, 6, 9, 10}));
  EXPECT_EQ(g.inner, (std::vector<int>{4, 7, 8, 11, 12, 13}));
  EXPECT_EQ(g.pairs, 16);
  EXPECT_EQ(g.preds[0], (std::vector<int>{0, 1}));        // e4 = 2->3
  EXPECT_EQ(g.preds[2], (std::vector<int>{2, 3, 4}));     // e8 = 3->4
  EXPECT_EQ(g.preds[5], (std::vector<int>{5, 6, 7, 8}));  // e13 = 4->5
  EXPECT_EQ(g.outer_row[9], 6);
  EXPECT_EQ(g.outer_row[4], -1);
}

TEST(ItnasStrategy, HasThe1712ArchitectureParametersOfTheSpec) {
  search::ItnasStrategy itnas(darts7_cell(), search::OptimConfig{}, search::ItnasConfig{});
  EXPECT_EQ(itnas.parameter_count(), 2 * (8 * 7 + 16 * (49 + 1)));
  search::ItnasConfig plain;
  plain.transition = false;
  plain.tiep = false;
  EXPECT_EQ(search::ItnasStrategy(darts7_cell(), search::OptimConfig{}, plain).parameter_count(), 2 * 14 * 7);
}

TEST(ItnasStrategy, TransitionRowsAttentionAndEveryEdgeWeightSumToOne) {
  torch::manual_seed(3);
  search::ItnasStrategy itnas(darts7_cell(), search::OptimConfig{}, search::ItnasConfig{});
  for (auto& c : itnas.parameters()) {  // move away from the near-uniform init
    torch::NoGradGuard no_grad;
    c.theta.normal_(0, 2);
    c.z.normal_(0, 2);
    c.a.normal_(0, 2);
  }
  for (const auto& [name, t] : itnas.arch_tensors())
    if (name.rfind("transition_", 0) == 0) {
      EXPECT_EQ(t.sizes(), (std::vector<int64_t>{16, 7, 7}));
      EXPECT_TRUE(torch::allclose(t.sum(-1), torch::ones({16, 7}), 1e-6, 1e-6)) << name;
    }
  for (bool sample : {false, true})
    for (int c = 0; c < 2; ++c) {
      auto w = itnas.cell_weights(c, sample);  // [14, 7]
      EXPECT_TRUE(torch::allclose(w.sum(-1), torch::ones({14}), 1e-6, 1e-6));
      EXPECT_TRUE((w >= 0).all().item<bool>());
    }
}

TEST(ItnasTransition, IdentityTransitionAndOneHotAttentionPassTheWeightsOn) {
  auto g = edge_groups(4);
  torch::manual_seed(1);
  auto outer = torch::softmax(torch::randn({8, 7}, torch::kDouble), -1);
  auto z = (200.0 * torch::eye(7, torch::kDouble)).expand({16, 7, 7}).clone();  // T = I
  auto a = torch::full({16}, -200.0, torch::kDouble);
  a[g.pair_begin[5] + 2] = 200.0;  // e13 listens only to its third predecessor, e7
  a[g.pair_begin[1] + 0] = 200.0;  // e7 = 2->4 listens only to e0
  auto w = search::transition_weights(g, outer, outer, z, a);
  EXPECT_TRUE(torch::allclose(w[7], outer[0]));  // w_e7 = w_e0
  EXPECT_TRUE(torch::allclose(w[13], w[7]));     // w_e13 = w_e7 = w_e0
  EXPECT_TRUE(torch::allclose(w[9], outer[6]));  // outer rows are the outer weights
}

TEST(ItnasTransition, GradientsReachOuterThetaThroughInnerEdges) {
  auto g = edge_groups(3);
  torch::manual_seed(2);
  auto theta = torch::randn({6, 3}, torch::kDouble).requires_grad_();
  auto z = torch::randn({g.pairs, 3, 3}, torch::kDouble).requires_grad_();
  auto a = torch::randn({g.pairs}, torch::kDouble).requires_grad_();
  auto c = torch::randn({9, 3}, torch::kDouble);
  // Only inner rows (e4, e7, e8) enter the loss: theta's gradient comes through Eq. 11 alone.
  auto loss_of = [&](const torch::Tensor& th, const torch::Tensor& zz, const torch::Tensor& aa) {
    auto p = torch::softmax(th, -1);
    auto w = search::transition_weights(g, p, p, zz, aa);
    return (w.index({torch::tensor({4, 7, 8})}) * c.index({torch::tensor({4, 7, 8})})).sum();
  };
  auto grads = torch::autograd::grad({loss_of(theta, z, a)}, {theta, z, a});
  EXPECT_GT(grads[0].abs().max().item<double>(), 1e-3);
  const double h = 1e-6;
  std::vector<torch::Tensor> params = {theta, z, a};
  for (size_t k = 0; k < params.size(); ++k) {
    auto flat = params[k].detach().reshape(-1);
    for (int64_t i = 0; i < flat.numel(); i += 3) {
      auto plus = params[k].detach().clone(), minus = params[k].detach().clone();
      plus.view(-1)[i] += h;
      minus.view(-1)[i] -= h;
      auto args = [&](const torch::Tensor& v) {
        std::vector<torch::Tensor> x = {theta.detach(), z.detach(), a.detach()};
        x[k] = v;
        return loss_of(x[0], x[1], x[2]).item<double>();
      };
      const double numeric = (args(plus) - args(minus)) / (2 * h);
      EXPECT_NEAR(grads[k].reshape(-1)[i].item<double>(), numeric, 1e-7) << "param " << k << " entry " << i;
    }
  }
}

TEST(ItnasTiep, HandToyOfTheSpecAndItsDifferenceFromTheSoftRule) {
  // Two steps, ops A and B; edges e0: 0->2, e1: 1->2, e2: 0->3, e3: 1->3, e4: 2->3.
  auto g = edge_groups(2);
  ASSERT_EQ(g.pairs, 2);
  auto theta = logits({0.7, 0.3, 0.4, 0.6, 0.6, 0.4, 0.3, 0.7}, {4, 2});  // e0 e1 e2 e3
  auto z = logits({0.9, 0.1, 0.5, 0.5, 0.5, 0.5, 0.2, 0.8}, {2, 2, 2});   // T_{e0->e4}, T_{e1->e4}
  auto a = torch::tensor({0.0, std::log(3.0)}, torch::kDouble);           // A = (0.25, 0.75)
  const std::vector<std::string> ops = {"sep_conv_3x3", "skip_connect"};  // A, B
  auto tiep = search::tiep_derive(g, theta, z, a, ops);
  const std::string A = ops[0], B = ops[1];
  const auto expected = cell({{{A, 0}, {B, 1}}, {{B, 1}, {B, 2}}});  // [('A',0),('B',1),('B',1),('B',2)]
  EXPECT_EQ(tiep.nodes, expected.nodes);
  EXPECT_EQ(tiep.concat, expected.concat);
  // The soft recursion: v_e4 = (0.435, 0.565) loses to e2 (0.6).
  auto p = torch::softmax(theta, -1);
  auto w = search::transition_weights(g, p, p, z, a);
  EXPECT_NEAR(w[4][0].item<double>(), 0.435, 1e-12);
  EXPECT_NEAR(w[4][1].item<double>(), 0.565, 1e-12);
  auto soft = genotype::derive_darts(w, ops, 2);
  EXPECT_EQ(soft.nodes[1][0].src, 1);
  EXPECT_EQ(soft.nodes[1][1].src, 0);  // e2 kept, e4 dropped: the two rules differ
  EXPECT_EQ(soft.nodes[1][1].op, A);
}

TEST(ItnasTiep, PrunedPredecessorsLeaveAndAttentionIsRenormalised) {
  // Three steps. Edges: e0 0->2, e1 1->2 | e2 0->3, e3 1->3, e4 2->3 | e5 0->4, e6 1->4, e7 2->4, e8 3->4.
  // Node 3 drops e2; e8's attention logits over (e2, e3, e4) are (0, 0, ln 2), so over the
  // survivors (e3, e4) they renormalise to (1/3, 2/3).
  auto g = edge_groups(3);
  ASSERT_EQ(g.pairs, 7);  // e4: 2, e7: 2, e8: 3
  auto theta = logits({0.9, 0.1, 0.3, 0.7, 0.55, 0.45, 0.2, 0.8, 0.58, 0.42, 0.45, 0.55}, {6, 2});
  std::vector<double> t(7 * 4, 0.5);  // uniform rows unless set
  auto set_row = [&](int pair, int row, double p0) {
    t[static_cast<size_t>(pair * 4 + row * 2)] = p0;
    t[static_cast<size_t>(pair * 4 + row * 2 + 1)] = 1 - p0;
  };
  for (int pair : {0, 1})
    for (int row : {0, 1}) set_row(pair, row, 0.1);  // e4 ends up B with strength 0.9
  set_row(5, 1, 0.9);                                // T_{e3->e8}[B] = (0.9, 0.1)
  set_row(6, 1, 0.15);                               // T_{e4->e8}[B] = (0.15, 0.85)
  auto z = logits(t, {7, 2, 2});
  auto a = torch::tensor({0.0, 0.0, 0.0, 0.0, 0.0, 0.0, std::log(2.0)}, torch::kDouble);
  auto tiep = search::tiep_derive(g, theta, z, a, {"A", "B"});
  // v_e8 = 1/3 (0.9, 0.1) + 2/3 (0.15, 0.85) = (0.4, 0.6): e8 (B, 0.6) beats e5 (A, 0.58) and
  // e6 (0.55). Without renormalisation e8 would score 0.45 and lose.
  EXPECT_EQ(tiep.nodes[1][0].src, 2);  // node 3: e4 (0.9), then e3 (0.8)
  EXPECT_EQ(tiep.nodes[1][1].src, 1);
  ASSERT_EQ(tiep.nodes[2].size(), 2u);
  EXPECT_EQ(tiep.nodes[2][0].src, 3);
  EXPECT_EQ(tiep.nodes[2][0].op, "B");
  EXPECT_EQ(tiep.nodes[2][1].src, 0);
  EXPECT_EQ(tiep.nodes[2][1].op, "A");
}

TEST(ItnasStrategy, TemperatureRunsLinearlyFromTau0ToTauMin) {
  EXPECT_DOUBLE_EQ(search::itnas_tau(0, 50, 10.0, 0.1), 10.0);
  EXPECT_DOUBLE_EQ(search::itnas_tau(49, 50, 10.0, 0.1), 0.1);
  EXPECT_NEAR(search::itnas_tau(1, 3, 10.0, 0.1), 5.05, 1e-12);
  search::ItnasStrategy itnas(darts7_cell(), search::OptimConfig{}, search::ItnasConfig{});
  itnas.begin_epoch({2, 5, 0.025});
  EXPECT_NEAR(itnas.tau(), 10.0 - 9.9 * 2 / 4, 1e-12);
}

TEST(ItnasStrategy, AStepIsDeterministic) {
  auto run = [] {
    torch::manual_seed(5);
    auto cfg = darts7_cell(2);
    search::ItnasStrategy itnas(cfg, search::OptimConfig{}, search::ItnasConfig{});
    search::WeightTrainer weights(supernet::Supernet(cfg), search::WeightOptions{});
    itnas.begin_epoch({0, 10, 0.025});
    itnas.step(weights, {dnas::testing::random_batch(4), dnas::testing::random_batch(4), {}}, {0, 10, 0.025});
    const auto p = itnas.parameter_list();
    return genotype::to_string(itnas.derive()) + " " +
           std::to_string(torch::cat({p[0].reshape(-1), p[1].reshape(-1), p[2]}).sum().item<double>());
  };
  EXPECT_EQ(run(), run());
}

// One sampled forward: Gumbel noise on the 8 outer edges only, drawn once per cell type from the
// generator (the next numbers are then those after one [8, 7] draw), and the 6 inner edges given by
// the transition recursion from the sample (or from softmax(theta) with derive_from = probs).
TEST(ItnasStrategy, GumbelNoiseIsDrawnOnOuterEdgesOnlyAndInnerEdgesFollowTheTransition) {
  for (const std::string derive_from : {"sample", "probs"}) {
    torch::manual_seed(6);
    search::ItnasConfig ic;
    ic.derive_from = derive_from;
    search::ItnasStrategy itnas(darts7_cell(), search::OptimConfig{}, ic);
    randomize(itnas, 1.0);
    itnas.begin_epoch({1, 3, 0.025});
    const double tau = 10.0 - 9.9 / 2;  // linear from 10 to 0.1 over 3 epochs; not 1, so a missing 1/tau shows
    ASSERT_NEAR(itnas.tau(), tau, 1e-12);
    const auto groups = edge_groups(4);
    const auto outer = torch::tensor(std::vector<int64_t>(groups.outer.begin(), groups.outer.end()));
    for (int c = 0; c < 2; ++c) {
      const auto& p = itnas.parameters()[static_cast<size_t>(c)];
      torch::manual_seed(11);
      const auto w = itnas.cell_weights(c, /*sample=*/true).detach();  // [14, 7]
      const auto next = torch::rand({4});
      torch::manual_seed(11);
      const auto gumbel = -torch::empty({8, 7}).exponential_().log();  // Gumbel(0, 1) per outer (edge, op)
      const auto expected_next = torch::rand({4});
      const auto theta = p.theta.detach();
      const auto sample = torch::softmax((torch::log_softmax(theta, -1) + gumbel) / tau, -1);  // [8, 7]
      const auto passed = derive_from == "probs" ? torch::softmax(theta, -1) : sample;
      const auto expected = transition_by_hand(4, sample, passed, p.z.detach(), p.a.detach());
      EXPECT_TRUE(torch::allclose(w, expected, 1e-5, 1e-6)) << derive_from << " cell " << c << "\n" << w - expected;
      EXPECT_TRUE(torch::equal(next, expected_next)) << derive_from << " cell " << c << ": other noise was drawn";
      // The noise is real: the outer rows are not the noise-free softmax (so the checks above can fail).
      EXPECT_GT((w.index({outer}) - torch::softmax(theta, -1)).abs().max().item<double>(), 1e-2);
    }
  }
}

// A step: the architecture step's forward uses the next two draws of the generator (normal, then
// reduce) and gets the gradients of plain autograd through them; the weight step then draws a fresh
// sample (the two draws after those) at the updated parameters.
TEST(ItnasStrategy, TheWeightStepDrawsAFreshSampleAfterTheArchitectureStep) {
  torch::manual_seed(5);
  auto cfg = darts7_cell(2);  // edges e0..e3 outer (4 rows), e4 inner
  const search::OptimConfig optim;
  search::ItnasStrategy itnas(cfg, optim, search::ItnasConfig{});
  randomize(itnas, 1.0);
  search::WeightTrainer weights(supernet::Supernet(cfg), search::WeightOptions{});
  const search::StepBatches b{dnas::testing::random_batch(8), dnas::testing::random_batch(8), {}};
  const search::EpochInfo info{9, 10, 0.025};
  itnas.begin_epoch(info);  // tau = 0.1: nearly one-hot samples, so two samples give clearly different losses
  const double tau = itnas.tau();
  const auto params = itnas.parameter_list();  // theta, z, a of normal, then of reduce
  ASSERT_EQ(params.size(), 6u);
  const auto start = dnas::testing::snapshot(params);
  const auto w0 = dnas::testing::snapshot(weights.net->parameters());

  torch::manual_seed(21);
  std::vector<torch::Tensor> gumbel;  // architecture step (normal, reduce), then weight step (normal, reduce)
  for (int i = 0; i < 4; ++i) gumbel.push_back(-torch::empty({4, 7}).exponential_().log());
  auto mix_of = [&](const std::vector<torch::Tensor>& p, const torch::Tensor& g_normal, const torch::Tensor& g_reduce) {
    auto cell = [&](size_t c, const torch::Tensor& g) {
      const auto sample = torch::softmax((torch::log_softmax(p[3 * c], -1) + g) / tau, -1);
      return supernet::soft_mix(transition_by_hand(2, sample, sample, p[3 * c + 1], p[3 * c + 2]));
    };
    return supernet::ArchMix{cell(0, g_normal), cell(1, g_reduce)};
  };
  const auto leaves = dnas::testing::leaf_copies(params);
  const auto val_loss =
      torch::cross_entropy_loss(weights.net->forward(b.val.x, mix_of(leaves, gumbel[0], gumbel[1])), b.val.y);
  const auto expected = dnas::testing::grads_of(val_loss, leaves);

  torch::manual_seed(21);
  const auto r = itnas.step(weights, b, info);
  EXPECT_NEAR(r.val.loss(), val_loss.item<double>(), 1e-5);
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_LT(dnas::testing::max_relative_difference({params[i].grad()}, {expected[i]}), 1e-4) << "parameter " << i;
    EXPECT_TRUE(torch::allclose(params[i].detach(), dnas::testing::adam_first_step(start[i], expected[i], optim), 0.0,
                                1e-3 * optim.arch_lr))
        << "parameter " << i;
  }
  // The weight step's forward ran at w0 with the updated parameters: recompute it there.
  {
    torch::NoGradGuard no_grad;
    auto w = weights.net->parameters();
    for (size_t i = 0; i < w.size(); ++i) w[i].copy_(w0[i]);
  }
  torch::NoGradGuard no_grad;
  const auto now = dnas::testing::snapshot(params);
  auto train_loss = [&](const torch::Tensor& g_normal, const torch::Tensor& g_reduce) {
    return torch::cross_entropy_loss(weights.net->forward(b.train.x, mix_of(now, g_normal, g_reduce)), b.train.y)
        .item<double>();
  };
  const double fresh = train_loss(gumbel[2], gumbel[3]), reused = train_loss(gumbel[0], gumbel[1]);
  EXPECT_NEAR(r.train.loss(), fresh, 1e-5);
  EXPECT_GT(std::abs(fresh - reused), 1e-3) << "the two samples must differ for the check above to mean anything";
}

TEST(ItnasConfig, TiepWithoutTransitionIsRejectedWithTheKey) {
  search::SearchConfig c;
  c.run.method = "itnas";
  c.itnas.transition = false;
  const auto message = dnas::testing::error_of([&] { search::validate(c); });
  EXPECT_NE(message.find("itnas.tiep"), std::string::npos) << message;
  c.itnas.tiep = false;
  EXPECT_NO_THROW(search::validate(c));
}
