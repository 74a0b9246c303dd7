// The method switches of docs/methods.md's table that change a computation: each against a hand
// computation or a closed form.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "dnas/search/eoinas.h"
#include "dnas/search/eoinas_stats.h"
#include "dnas/search/milenas.h"
#include "dnas/supernet/mixed_op.h"
#include "search/search_fixtures.h"

using namespace dnas;

TEST(Switches, NesterovReachesTheWeightOptimizer) {
  auto cfg = dnas::testing::tiny_supernet_config("darts7");
  search::WeightOptions o;
  o.nesterov = true;
  search::WeightTrainer on(supernet::Supernet(cfg), o);
  search::WeightTrainer off(supernet::Supernet(cfg), search::WeightOptions{});
  EXPECT_TRUE(static_cast<torch::optim::SGDOptions&>(on.optimizer.param_groups()[0].options()).nesterov());
  EXPECT_FALSE(static_cast<torch::optim::SGDOptions&>(off.optimizer.param_groups()[0].options()).nesterov());
}

// milenas.clip_arch_grads_like_code: the mixed-level gradient g is clipped to norm c before
// Adam's first step, p1 = p0 - lr g' / (|g'| + eps) with g' = g min(1, c / (||g|| + 1e-6)) +
// wd p0; with c far below ||g|| the eps term makes the step visibly smaller than arch_lr.
TEST(Switches, MilenasClipsTheArchitectureGradientLikeItsCode) {
  torch::manual_seed(4);
  auto cfg = dnas::testing::tiny_supernet_config("darts7");
  supernet::Supernet net(cfg);
  net->eval();  // fixed BN statistics: the strategy's forward and ours agree exactly
  search::WeightTrainer weights(net, search::WeightOptions{});
  const auto train = dnas::testing::random_batch(4), val = dnas::testing::random_batch(4);
  search::OptimConfig optim;
  const double clip = 1e-9;
  search::MilenasStrategy m(cfg, optim, 1.0, clip);
  const auto g = m.mixed_level_gradient(weights, train, val);
  double sq = 0.0;
  for (const auto& t : g) sq += t.to(torch::kDouble).pow(2).sum().item<double>();
  const double scale = std::min(1.0, clip / (std::sqrt(sq) + 1e-6));
  ASSERT_LT(scale, 1e-6);
  const std::vector<torch::Tensor> a0 = {m.arch().alpha_normal.detach().clone(),
                                         m.arch().alpha_reduce.detach().clone()};
  m.step(weights, {train, val, {}}, {0, 1, 0.025});
  for (size_t c = 0; c < 2; ++c) {
    const auto& a1 = c == 0 ? m.arch().alpha_normal : m.arch().alpha_reduce;
    const auto expected = dnas::testing::adam_first_step(a0[c], g[c] * scale, optim);
    EXPECT_TRUE(torch::allclose(a1.detach(), expected, 1e-5, 1e-9)) << (a1.detach() - expected).abs().max();
  }
}

TEST(Switches, EoinasSkipDropoutScheduleOfTheCode) {
  search::EoinasConfig c;
  EXPECT_EQ(search::eoinas_skip_dropout(0, 160, c), 0.0);  // off by default
  c.skip_dropout = true;
  c.warmup_epochs = 20;
  EXPECT_DOUBLE_EQ(search::eoinas_skip_dropout(0, 160, c), 0.1 * 159 / 160);
  EXPECT_DOUBLE_EQ(search::eoinas_skip_dropout(19, 160, c), 0.1 * 140 / 160);
  EXPECT_DOUBLE_EQ(search::eoinas_skip_dropout(20, 160, c), 0.1);
  EXPECT_DOUBLE_EQ(search::eoinas_skip_dropout(25, 160, c), 0.1 * std::exp(-1.0));
}

// Dropout on an identity skip's output: every element is 0 or x / (1 - p) in training, x in eval;
// a strided skip (FactorizedReduce) is left alone.
TEST(Switches, SkipDropoutDropsIdentitySkipOutputsInTrainingOnly) {
  torch::manual_seed(2);
  supernet::MixedOp op(std::vector<std::string>{"skip_connect"}, 4, 1);
  const auto x = torch::rand({2, 4, 6, 6}) + 0.5;  // no zeros of its own
  const std::vector<torch::Tensor> w = {torch::ones({})};
  op->train();
  const auto y = op->forward(x, w, nullptr, 0.5);
  const auto kept = y.ne(0);
  EXPECT_TRUE(torch::allclose(y.masked_select(kept), (2 * x).masked_select(kept)));
  const double dropped = 1.0 - kept.to(torch::kDouble).mean().item<double>();
  EXPECT_GT(dropped, 0.3);
  EXPECT_LT(dropped, 0.7);
  op->eval();
  EXPECT_TRUE(torch::equal(op->forward(x, w, nullptr, 0.5), x));
  supernet::MixedOp strided(std::vector<std::string>{"skip_connect"}, 4, 2);
  strided->train();
  EXPECT_TRUE(torch::equal(strided->forward(x, w, nullptr, 0.5), strided->forward(x, w, nullptr, 0.0)));
}

namespace {

// One prune window on one edge of 7 ops, simulated: the w steps sample ops ~ beta (Ce ~
// Multinomial(N, beta)), every sampled op's last alpha-step accuracy is the same 60 % (C then
// carries no information about the op), then the op the indicator removes.
int64_t simulated_prune(const torch::Tensor& alpha, int64_t n, double reference_window, torch::Generator& gen) {
  const auto beta = torch::softmax(alpha, -1);
  search::OpStatistics st(1, std::vector<std::string>(7, "sep_conv_3x3"), reference_window);
  const auto draws = torch::multinomial(beta, n, /*replacement=*/true, gen).squeeze(0);  // [N]
  for (int64_t i = 0; i < n; ++i) st.count_training(draws[i].reshape({1}));
  for (int64_t o = 0; o < 7; ++o)
    if (st.ce()[0][o].item<double>() > 0) st.record_accuracy(torch::full({1}, o, torch::kLong), 60.0, false);
  return st.prune(alpha.unsqueeze(0), 0.5)[0];
}

}  // namespace

// EoiNAS's C = Ca / Ce has Ce ~ N beta, so I ~ beta + lambda acc / (N beta). Over the paper's
// window (N = 7,820 w steps) the term is small and the weakest op (lowest beta) is the one
// pruned. Over a small config's window the unscaled term dominates: an op sampled a few times
// gets a large C and survives, and the op sampled most (the strongest) has the smallest C and is
// often pruned. Scaling C by N / 7,820 (eoinas.c_reference_window) brings back the paper's
// behaviour at small N: the weakest op is pruned most often and the strongest ones never.
TEST(Switches, EoinasWindowScalingPrunesTheWeakestOpAtEveryWindowLength) {
  const auto alpha = torch::tensor({0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9}, torch::kDouble);  // op 0 weakest
  auto gen = at::detail::createCPUGenerator(11);
  const int trials = 400;
  auto prune_counts = [&](int64_t n, double reference, int runs) {
    std::vector<int> counts(7, 0);
    for (int t = 0; t < runs; ++t) ++counts[static_cast<size_t>(simulated_prune(alpha, n, reference, gen))];
    return counts;
  };
  const auto most = [](const std::vector<int>& c) { return std::max_element(c.begin(), c.end()) - c.begin(); };
  EXPECT_GE(prune_counts(7820, 7820, 20)[0], 19);  // the paper's window: the weakest op
  EXPECT_GE(prune_counts(7820, 0, 20)[0], 19);     // where scaling changes nothing
  const auto unscaled = prune_counts(20, 0, trials);
  EXPECT_GT(unscaled[6], trials / 10);  // the problem: the strongest op pruned in >10 % of windows
  EXPECT_LT(unscaled[0], trials * 35 / 100);
  for (int64_t n : {15, 20}) {
    const auto scaled = prune_counts(n, 7820, trials);
    EXPECT_EQ(most(scaled), 0) << n;
    EXPECT_GT(scaled[0], trials * 45 / 100) << n;
    EXPECT_LT(scaled[4] + scaled[5] + scaled[6], trials / 50) << n;  // the strongest three: (almost) never
  }
}

// eoinas.C_when_Ce0 = inf (the code): an op not trained since the last prune gets C = +inf and is
// never the one removed; with 0 (default) it has I = beta and goes first when beta is lowest.
TEST(Switches, EoinasUnsampledOpIsKeptWhenCIsInfinite) {
  const auto alpha = torch::tensor({{0.0, 1.0, 2.0}}, torch::kDouble);
  for (bool inf : {false, true}) {
    search::OpStatistics st(1, {"sep_conv_3x3", "max_pool_3x3", "skip_connect"}, 0.0, inf);
    for (int64_t o : {1, 2, 2}) st.count_training(torch::full({1}, o, torch::kLong));  // op 0 never trained
    for (int64_t o : {1, 2}) st.record_accuracy(torch::full({1}, o, torch::kLong), 50.0, false);
    const auto removed = st.prune(alpha, 0.5)[0];
    // I = beta + 0.5 C: op 1 has C = 50, op 2 has C = 25, op 0 has C = 0 or inf.
    EXPECT_EQ(removed, inf ? 2 : 0);
  }
}
