#include "dnas/lm/rnn_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "dnas/lm/rnn_arch.h"

namespace dnas::lm {
namespace {

RnnModelConfig no_dropout(int64_t vocab, int64_t hidden, int steps, bool bn) {
  RnnModelConfig c;
  c.vocab = vocab;
  c.hidden = hidden;
  c.steps = steps;
  c.node_bn = bn;
  c.dropout = c.dropout_h = c.dropout_x = c.dropout_i = c.dropout_e = 0;
  return c;
}

torch::Tensor param(RnnLanguageModel& m, const std::string& name) { return m->named_parameters()[name]; }

TEST(RnnModel, ParameterCountIsClosedForm) {
  // Embedding (tied decoder) V*H + bias V + W_0 (2H)^2 + 8 W_i H*2H: DARTS_V2 at PTB size is
  // the papers' 23M.
  RnnLanguageModel m(no_dropout(10000, 850, 8, false));
  EXPECT_EQ(parameter_count(m), 10000 * 850 + 10000 + 1700 * 1700 + 8 * 850 * 1700);
  EXPECT_EQ(parameter_count(m), 22960000);
}

TEST(RnnModel, CellMatchesHandComputedValues) {
  // H = 1, x_t = 1, h_{t-1} = 0: [c0, h0] = [0, atanh(0.5)] -> s0 = 0.5 * 0.5 = 0.25.
  // Node 1 = identity(s0 W_1) with W_1 = [0, 2]: s1 = 0.25 + 0.5 * (0.5 - 0.25) = 0.375;
  // with relu and W_1 = [0, -2]: s1 = 0.25 + 0.5 * (0 - 0.25) = 0.125.
  RnnLanguageModel m(no_dropout(2, 1, 1, false));
  m->eval();
  {
    torch::NoGradGuard g;
    param(m, "encoder_weight").copy_(torch::tensor({{1.0f}, {-1.0f}}));
    param(m, "W0").copy_(torch::tensor({{0.0f, static_cast<float>(std::atanh(0.5))}, {0.0f, 0.0f}}));
    param(m, "Ws_0").copy_(torch::tensor({{0.0f, 2.0f}}));
  }
  const auto input = torch::zeros({1, 1}, torch::kLong);
  RnnGenotype g{{{"identity", 0}}, {1}};
  auto f = m->forward(input, m->init_hidden(1), CellPlan::fixed(g));
  EXPECT_NEAR(f.outputs.item<float>(), 0.375, 1e-6);
  g.concat = {0, 1};
  EXPECT_NEAR(m->forward(input, m->init_hidden(1), CellPlan::fixed(g)).outputs.item<float>(), (0.25 + 0.375) / 2, 1e-6);
  {
    torch::NoGradGuard ng;
    param(m, "Ws_0").copy_(torch::tensor({{0.0f, -2.0f}}));
  }
  g = {{{"relu", 0}}, {1}};
  EXPECT_NEAR(m->forward(input, m->init_hidden(1), CellPlan::fixed(g)).outputs.item<float>(), 0.125, 1e-6);
  // log-probabilities of the tied decoder are normalised
  EXPECT_NEAR(f.log_probs.exp().sum().item<float>(), 1.0, 1e-6);
}

TEST(RnnModel, OneHotMixingEqualsTheGenotypeCell) {
  torch::manual_seed(0);
  RnnLanguageModel m(no_dropout(7, 6, 8, true));
  m->eval();
  const std::vector<std::string> ops = {"tanh", "relu", "sigmoid", "identity"};
  const auto g = published_rnn_genotype("DARTS_V2");
  auto w = torch::zeros({rnn_edge_count(8), 4});
  for (int i = 1; i <= 8; ++i) {
    const auto& [op, pred] = g.recurrent[static_cast<size_t>(i - 1)];
    w[rnn_edge_index(i, pred)][std::find(ops.begin(), ops.end(), op) - ops.begin()] = 1;
  }
  EXPECT_EQ(discrete_rnn_genotype(w, ops, 8).recurrent, g.recurrent);
  const auto input = torch::randint(0, 7, {5, 3});
  const auto h = torch::randn({3, 6});
  const int64_t before = m->edge_evaluations();
  const auto mixed = m->forward(input, h, CellPlan::mixed(w, ops));
  EXPECT_EQ(m->edge_evaluations() - before, 5 * 36 * 4);  // every (edge, op) at every time step
  const auto fixed = m->forward(input, h, CellPlan::fixed(g));
  EXPECT_EQ(m->edge_evaluations() - before, 5 * 36 * 4 + 5 * 8);  // one per node
  EXPECT_TRUE(torch::allclose(mixed.outputs, fixed.outputs, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(mixed.log_probs, fixed.log_probs, 1e-5, 1e-5));
}

TEST(RnnModel, MixingWeightGradientMatchesFiniteDifferences) {
  torch::manual_seed(1);
  RnnLanguageModel m(no_dropout(5, 4, 3, true));
  m->to(torch::kDouble);
  m->eval();
  const std::vector<std::string> ops = {"none", "tanh", "relu", "sigmoid", "identity"};
  const auto input = torch::randint(0, 5, {3, 2});
  const auto target = torch::randint(0, 5, {6});
  const auto h = torch::randn({2, 4}, torch::kDouble);
  auto w = torch::softmax(torch::randn({rnn_edge_count(3), 5}, torch::kDouble), -1).requires_grad_();
  const auto loss = [&](const torch::Tensor& weights) {
    return torch::nll_loss(m->forward(input, h, CellPlan::mixed(weights, ops)).log_probs, target);
  };
  const auto grad = torch::autograd::grad({loss(w)}, {w})[0];
  torch::NoGradGuard no_grad;
  const double step = 1e-6;
  for (int e : {0, 2, 5}) {
    for (int k : {0, 1, 4}) {
      auto plus = w.detach().clone(), minus = w.detach().clone();
      plus[e][k] += step;
      minus[e][k] -= step;
      const double fd = (loss(plus).item<double>() - loss(minus).item<double>()) / (2 * step);
      EXPECT_NEAR(grad[e][k].item<double>(), fd, 1e-7) << "edge " << e << " op " << k;
    }
  }
  EXPECT_EQ(grad.select(1, 0).abs().sum().item<double>(), 0.0);  // `none` adds nothing
}

// NASP's architecture step at a discrete point: running the unselected pairs without autograd
// must give the same dL/dA (every entry, unselected ones included) and the same weight
// gradients as full autograd, because those pairs carry weight 0.
TEST(RnnModel, SelectedOnlyGradientsEqualFullAutogradAtADiscreteArchitecture) {
  torch::manual_seed(2);
  RnnLanguageModel m(no_dropout(6, 5, 4, true));
  m->to(torch::kDouble);
  const std::vector<std::string> ops = {"tanh", "relu", "sigmoid", "identity"};
  const auto discrete = nasp_rnn_discrete(torch::rand({rnn_edge_count(4), 4}, torch::kDouble), 4);
  const auto input = torch::randint(0, 6, {3, 2});
  const auto target = torch::randint(0, 6, {6});
  const auto h = torch::randn({2, 5}, torch::kDouble);
  auto run = [&](bool selected_only) {
    auto a = discrete.clone().requires_grad_();
    auto plan = CellPlan::mixed(a, ops);
    plan.grads_through_selected_only = selected_only;
    const int64_t before = m->edge_evaluations();
    const auto loss = torch::nll_loss(m->forward(input, h, plan).log_probs, target);
    std::vector<torch::Tensor> inputs = {a, param(m, "Ws_2"), param(m, "W0"), param(m, "encoder_weight")};
    auto grads = torch::autograd::grad({loss}, inputs);
    grads.push_back(loss.detach());
    return std::make_pair(grads, m->edge_evaluations() - before);
  };
  const auto [full, full_evals] = run(false);
  const auto [selected, selected_evals] = run(true);
  for (size_t k = 0; k < full.size(); ++k) EXPECT_TRUE(torch::allclose(full[k], selected[k], 1e-10, 1e-12)) << k;
  EXPECT_GT(full[0].ne(0).sum().item<int64_t>(), 4);  // unselected entries get gradients too
  // Every pair is evaluated either way; the selected one per node runs again with autograd.
  EXPECT_EQ(full_evals, 3 * 10 * 4);
  EXPECT_EQ(selected_evals, 3 * (10 * 4 + 4));
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (a * b).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
}

// run.precision = bf16 on the same weights and data as float32: the log-probabilities, states
// and gradients come back float32, within a few bf16 roundings of the float32 ones, and differ
// from them (the products did run in bf16). Mixed search cell (node BN) and genotype cell alike.
TEST(RnnModel, Bf16MatchesFloat32WithinBf16Rounding) {
  const std::vector<std::string> ops = {"none", "tanh", "relu", "sigmoid", "identity"};
  for (const bool mixed : {true, false}) {
    torch::manual_seed(3);
    auto cfg = no_dropout(11, 32, 4, mixed);
    RnnLanguageModel fp32(cfg);
    cfg.precision = ops::Precision::Bf16;
    RnnLanguageModel bf16(cfg);
    {
      torch::NoGradGuard g;
      for (const auto& item : fp32->named_parameters()) bf16->named_parameters()[item.key()].copy_(item.value());
    }
    const auto input = torch::randint(0, 11, {6, 4});
    const auto target = torch::randint(0, 11, {24});
    const auto h = 0.5 * torch::randn({4, 32});
    const auto w = torch::softmax(torch::randn({rnn_edge_count(4), 5}), -1);
    const RnnGenotype g{{{"tanh", 0}, {"relu", 1}, {"sigmoid", 1}, {"identity", 2}}, {1, 2, 3, 4}};
    auto run = [&](RnnLanguageModel& m) {
      auto a = w.clone().requires_grad_();
      const auto f = m->forward(input, h, mixed ? CellPlan::mixed(a, ops) : CellPlan::fixed(g));
      const auto loss = torch::nll_loss(f.log_probs, target);
      std::vector<torch::Tensor> wrt = {param(m, "W0"), param(m, "Ws_1"), param(m, "encoder_weight")};
      if (mixed) wrt.push_back(a);
      return std::make_pair(f, torch::autograd::grad({loss}, wrt));
    };
    const auto [f32, g32] = run(fp32);
    const auto [f16, g16] = run(bf16);
    SCOPED_TRACE(mixed ? "mixed cell" : "genotype cell");
    for (const auto* t : {&f16.log_probs, &f16.hidden, &f16.outputs, &f16.dropped})
      EXPECT_EQ(t->scalar_type(), torch::kFloat32);
    const double lp_diff = (f16.log_probs - f32.log_probs).abs().max().item<double>();
    EXPECT_GT(lp_diff, 0.0) << "bf16 gave float32's result: the switch is not in effect";
    EXPECT_LT(lp_diff, 0.05);  // ~ a few bf16 roundings (2^-8) of O(1) log-probabilities
    EXPECT_LT((f16.hidden - f32.hidden).abs().max().item<double>(), 0.05);
    for (size_t k = 0; k < g32.size(); ++k) {
      EXPECT_EQ(g16[k].scalar_type(), torch::kFloat32) << k;
      EXPECT_GT(cosine(g16[k], g32[k]), 0.99) << k;
    }
  }
}

TEST(RnnArch, NaspDiscreteKeepsTopOneEdgePerNode) {
  const std::vector<std::string> ops = {"tanh", "relu", "sigmoid", "identity"};
  // Oracle 4 analogue: at init every edge selects op 0 and every node keeps edge j = 0.
  auto a = nasp_rnn_discrete(torch::full({36, 4}, 0.5), 8);
  EXPECT_EQ(a.sum().item<float>(), 8);
  for (const auto& [op, pred] : discrete_rnn_genotype(a, ops, 8).recurrent) {
    EXPECT_EQ(op, "tanh");
    EXPECT_EQ(pred, 0);
  }
  // Node 2: edge j=0 selects relu at 0.9, edge j=1 selects tanh at 0.95 -> (tanh, 1).
  auto alpha = torch::full({36, 4}, 0.5);
  alpha[rnn_edge_index(2, 0)] = torch::tensor({0.2, 0.9, 0.0, 0.0});
  alpha[rnn_edge_index(2, 1)] = torch::tensor({0.95, 0.1, 0.0, 0.0});
  const auto g = discrete_rnn_genotype(nasp_rnn_discrete(alpha, 8), ops, 8);
  EXPECT_EQ(g.recurrent[1], (std::pair<std::string, int>{"tanh", 1}));
  EXPECT_EQ(g.concat, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(RnnArch, DartsRuleIgnoresNone) {
  const std::vector<std::string> ops = {"none", "tanh", "sigmoid"};
  auto w = torch::full({3, 3}, 0.1);        // 2 nodes: edges (1,0), (2,0), (2,1)
  w[0] = torch::tensor({0.9, 0.05, 0.05});  // node 1: none is largest, then a tie -> tanh
  w[1] = torch::tensor({0.2, 0.3, 0.5});
  w[2] = torch::tensor({0.0, 0.6, 0.4});  // node 2: edge j=1 tanh 0.6 beats sigmoid 0.5
  const auto g = derive_rnn_genotype(w, ops, 2);
  EXPECT_EQ(g.recurrent[0], (std::pair<std::string, int>{"tanh", 0}));
  EXPECT_EQ(g.recurrent[1], (std::pair<std::string, int>{"tanh", 1}));
}

}  // namespace
}  // namespace dnas::lm
