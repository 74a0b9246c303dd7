// EoiNAS (docs/methods.md 4): the spec's oracles for the indicator, the pruning schedule and rules,
// the temperature, the warm-up, the sampling law of the soft Gumbel draw, and a step's statistics
// (Ce, Ca) and alpha update recomputed by hand from the same generator sequence.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "dnas/ops/op_names.h"
#include "dnas/search/eoinas.h"
#include "search_fixtures.h"

using namespace dnas;
using search::OpStatistics;

namespace {

// One edge with three ops: beta = (0.2, 0.3, 0.5), Ca = (80, 90, 85), Ce = (200, 1800, 100).
struct SpecExample {
  torch::Tensor alpha = torch::tensor({{std::log(0.2), std::log(0.3), std::log(0.5)}}, torch::kDouble);
  OpStatistics stats{1, {"sep_conv_3x3", "skip_connect", "max_pool_3x3"}};
  SpecExample() {
    const int64_t counts[] = {200, 1800, 100};
    const double acc[] = {80, 90, 85};
    for (int64_t o = 0; o < 3; ++o) {
      for (int64_t i = 0; i < counts[o]; ++i) stats.count_training(torch::tensor({o}));
      stats.record_accuracy(torch::tensor({o}), acc[o], /*mean=*/false);
    }
  }
};

}  // namespace

TEST(EoinasSchedule, SevenPrunesFrom8OpsAndNoneBeforeEpoch40) {
  search::EoinasConfig c;  // 20 warm-up epochs, a prune every 20
  std::vector<int64_t> at;
  for (int64_t e = 0; e < 160; ++e)
    if (search::eoinas_prunes_after(e, c)) at.push_back(e + 1);
  EXPECT_EQ(at, (std::vector<int64_t>{40, 60, 80, 100, 120, 140, 160}));
  c.prune = false;
  for (int64_t e = 0; e < 160; ++e) EXPECT_FALSE(search::eoinas_prunes_after(e, c));
}

TEST(EoinasSchedule, TemperatureIsFiveUntilEpoch20ThenDecays) {
  search::EoinasConfig c;
  EXPECT_DOUBLE_EQ(search::eoinas_temperature(0, c), 5.0);
  EXPECT_DOUBLE_EQ(search::eoinas_temperature(20, c), 5.0);
  EXPECT_NEAR(search::eoinas_temperature(159, c), 0.0353, 5e-5);
  EXPECT_NEAR(search::eoinas_temperature(159, c), 5 * std::pow(0.965, 139), 1e-12);
}

TEST(EoinasIndicator, SpecExampleGivesTheHandValuesAndPrunesOp1) {
  SpecExample x;
  auto i = x.stats.indicator(x.alpha, 0.5);
  EXPECT_NEAR(i[0][0].item<double>(), 0.4, 1e-12);
  EXPECT_NEAR(i[0][1].item<double>(), 0.325, 1e-12);
  EXPECT_NEAR(i[0][2].item<double>(), 0.925, 1e-12);
  auto ca_before = x.stats.ca().clone();
  EXPECT_EQ(x.stats.prune(x.alpha, 0.5), (std::vector<int64_t>{1}));
  EXPECT_EQ(x.stats.remaining(0), 2);
  EXPECT_TRUE(torch::equal(x.stats.ce(), torch::zeros({1, 3}, torch::kDouble)));  // Ce reset
  EXPECT_TRUE(torch::equal(x.stats.ca(), ca_before));                             // Ca kept
  EXPECT_NEAR(x.stats.strength()[0].item<double>(), 0.925, 1e-12);
  // The survivors' beta renormalises over the remaining ops: (0.2, 0.5) / 0.7.
  auto beta = x.stats.beta(x.alpha);
  EXPECT_NEAR(beta[0][0].item<double>(), 0.2 / 0.7, 1e-12);
  EXPECT_EQ(beta[0][1].item<double>(), 0.0);
}

TEST(EoinasIndicator, WithLambdaZeroTheSmallestBetaGoes) {
  SpecExample x;
  EXPECT_EQ(x.stats.prune(x.alpha, 0.0), (std::vector<int64_t>{0}));
}

TEST(EoinasIndicator, ZeroTrainingCountsGiveZeroC) {
  OpStatistics stats(1, {"sep_conv_3x3", "skip_connect"});
  stats.record_accuracy(torch::tensor({int64_t{1}}), 90.0, false);  // accuracy but no training count
  auto alpha = torch::zeros({1, 2}, torch::kDouble);
  auto i = stats.indicator(alpha, 0.5);
  EXPECT_TRUE(torch::isfinite(i).all().item<bool>());
  EXPECT_DOUBLE_EQ(i[0][1].item<double>(), 0.5);  // beta only
}

TEST(EoinasIndicator, RunningMeanOfAccuracySinceTheLastPrune) {
  OpStatistics stats(1, {"sep_conv_3x3", "skip_connect", "none"});
  const auto op0 = torch::tensor({int64_t{0}});
  stats.record_accuracy(op0, 60.0, true);
  stats.record_accuracy(op0, 90.0, true);
  EXPECT_DOUBLE_EQ(stats.ca()[0][0].item<double>(), 75.0);
  stats.record_accuracy(op0, 30.0, false);  // `last` overwrites
  EXPECT_DOUBLE_EQ(stats.ca()[0][0].item<double>(), 30.0);
}

TEST(EoinasPruning, OneOpPerEdgePerPruneAndNeverNoneAtTheEnd) {
  torch::manual_seed(0);
  auto cfg = dnas::testing::tiny_supernet_config("darts8");  // 8 ops, `none` first
  search::EoinasConfig ec;
  ec.alpha_init = "random";
  search::EoinasStrategy eoinas(cfg, search::OptimConfig{}, ec);
  {
    torch::NoGradGuard no_grad;  // make `none` the strongest op everywhere
    for (auto& a : eoinas.alphas()) a.select(1, 0).fill_(5.0);
  }
  const auto alpha_before = eoinas.alphas()[0].detach().clone();
  for (int m = 1; m <= 7; ++m) {
    eoinas.prune();
    for (int c = 0; c < 2; ++c)
      for (int64_t e = 0; e < 5; ++e) ASSERT_EQ(eoinas.stats(c).remaining(e), 8 - m) << "prune " << m;
  }
  for (int c = 0; c < 2; ++c) {
    EXPECT_TRUE(eoinas.stats(c).fully_pruned());
    EXPECT_FALSE(eoinas.stats(c).alive().select(1, 0).any().item<bool>());  // `none` is gone
  }
  EXPECT_TRUE(torch::equal(eoinas.alphas()[0].detach(), alpha_before));  // survivors keep their values
  for (const auto& node : eoinas.derive().normal.nodes)
    for (const auto& gene : node) EXPECT_NE(gene.op, "none");
  // Removed ops are never computed: the mix switches them off.
  auto mix = eoinas.inference_mix();
  auto alive = eoinas.stats(0).alive().reshape(-1);
  for (int64_t i = 0; i < alive.numel(); ++i)
    EXPECT_EQ(mix.normal.modes[static_cast<size_t>(i)] == supernet::OpMode::Off, !alive[i].item<bool>()) << i;
}

TEST(EoinasSampling, DrawFrequenciesMatchBetaAndRemovedOpsAreNeverDrawn) {
  torch::manual_seed(1);
  auto logits = torch::tensor({0.0, 1.0, -std::numeric_limits<double>::infinity(), 0.5}).unsqueeze(0);
  auto beta = torch::softmax(logits, -1)[0];
  const int draws = 20000;
  auto counts = torch::zeros({4}, torch::kDouble);
  for (int i = 0; i < draws; ++i) {
    auto d = search::gumbel_softmax_draw(logits, 0.7);
    ASSERT_NEAR(d.h.sum().item<double>(), 1.0, 1e-5);
    counts[d.chosen[0].item<int64_t>()] += 1;
  }
  EXPECT_EQ(counts[2].item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(counts / draws, beta.to(torch::kDouble), 0, 0.015)) << counts / draws;
}

TEST(EoinasStrategy, WarmUpTrainsWeightsOnlyThenStatisticsCount) {
  torch::manual_seed(2);
  auto cfg = dnas::testing::tiny_supernet_config("darts8");
  search::EoinasConfig ec;
  ec.warmup_epochs = 2;
  search::EoinasStrategy eoinas(cfg, search::OptimConfig{}, ec);
  search::WeightTrainer weights(supernet::Supernet(cfg), search::WeightOptions{});
  const search::StepBatches b{dnas::testing::random_batch(4), dnas::testing::random_batch(4), {}};
  eoinas.begin_epoch({1, 10, 0.025});
  eoinas.step(weights, b, {1, 10, 0.025});
  EXPECT_TRUE(torch::equal(eoinas.alphas()[0].detach(), torch::zeros({5, 8})));  // no alpha step
  EXPECT_EQ(eoinas.stats(0).ce().sum().item<double>(), 0.0);                     // no statistics
  eoinas.begin_epoch({2, 10, 0.025});
  eoinas.step(weights, b, {2, 10, 0.025});
  // After the warm-up: one count per edge (which op, and the alpha step and Ca by hand, are checked
  // in AlphaStepRecordsTheBatchAccuracyForItsSampledOps).
  EXPECT_EQ(eoinas.stats(0).ce().sum().item<double>(), 5.0);
  EXPECT_TRUE(eoinas.stats(0).ce().eq(0).logical_or(eoinas.stats(0).ce().eq(1)).all().item<bool>());
}

namespace {

// One post-warm-up EoiNAS step (T = 5, zero alphas, darts8) with val labels `labels` [8]; what it
// recorded, and what was computed by hand from the same generator sequence.
struct RecordedStep {
  std::vector<torch::Tensor> ce, ca;        // per cell type, [5, 8], after the step
  std::vector<torch::Tensor> k_w, k_alpha;  // per cell type, [5]: the ops sampled for the w / alpha step
  std::vector<torch::Tensor> grads, expected_grads, alphas, expected_alphas;  // per cell type, [5, 8]
  torch::Tensor predictions;  // [8] of the alpha step's forward, recomputed
};

RecordedStep recorded_step(const torch::Tensor& labels) {
  torch::manual_seed(2);
  auto cfg = dnas::testing::tiny_supernet_config("darts8");
  search::EoinasConfig ec;
  ec.warmup_epochs = 0;
  const search::OptimConfig optim;
  search::EoinasStrategy eoinas(cfg, optim, ec);
  search::WeightTrainer weights(supernet::Supernet(cfg), search::WeightOptions{});
  const search::StepBatches b{dnas::testing::random_batch(8), {dnas::testing::random_batch(8).x, labels}, {}};
  const search::EpochInfo info{0, 10, 0.025};
  eoinas.begin_epoch(info);
  const double temperature = eoinas.temperature();
  const auto alpha0 = dnas::testing::snapshot(eoinas.alphas());

  torch::manual_seed(31);
  std::vector<torch::Tensor> gumbel;  // the w step's draws (normal, reduce), then the alpha step's
  for (int i = 0; i < 4; ++i) gumbel.push_back(-torch::empty({5, 8}).exponential_().log());
  torch::manual_seed(31);
  eoinas.step(weights, b, info);

  RecordedStep r;
  // The alpha step's forward ran at the weights after the w step, which the alpha update leaves
  // alone, with h = softmax((alpha0 + g) / T) (every op alive): recompute it by hand.
  const auto leaves = dnas::testing::leaf_copies(alpha0);
  std::vector<supernet::CellMix> cells;
  for (size_t c = 0; c < 2; ++c) {
    cells.push_back(supernet::soft_mix(torch::softmax((leaves[c] + gumbel[2 + c]) / temperature, -1)));
    r.k_w.push_back((alpha0[c] + gumbel[c]).argmax(-1));
    r.k_alpha.push_back((alpha0[c] + gumbel[2 + c]).argmax(-1));
  }
  const auto logits = weights.net->forward(b.val.x, {cells[0], cells[1]});  // [8, 10]
  r.predictions = logits.detach().argmax(-1);
  r.expected_grads = dnas::testing::grads_of(torch::cross_entropy_loss(logits, b.val.y), leaves);
  for (size_t c = 0; c < 2; ++c) {
    r.ce.push_back(eoinas.stats(static_cast<int>(c)).ce().clone());
    r.ca.push_back(eoinas.stats(static_cast<int>(c)).ca().clone());
    r.grads.push_back(eoinas.alphas()[c].grad().clone());
    r.alphas.push_back(eoinas.alphas()[c].detach().clone());
    r.expected_alphas.push_back(dnas::testing::adam_first_step(alpha0[c], r.expected_grads[c], optim));
  }
  return r;
}

}  // namespace

// docs/methods.md 4: Ce[e, k_e] += 1 for the w step's sample, Ca[e, k'_e] = 100 * acc for the alpha
// step's sample k'_e, where acc is the top-1 accuracy of the alpha step's forward on B_val. The
// labels are chosen so that exactly 3 of 8 predictions are right (acc 37.5 %, not 0 or 100).
TEST(EoinasStrategy, AlphaStepRecordsTheBatchAccuracyForItsSampledOps) {
  const auto first = recorded_step(torch::zeros({8}, torch::kLong));  // the predictions do not depend on the labels
  auto labels = (first.predictions + 1).remainder(10);
  labels.narrow(0, 0, 3).copy_(first.predictions.narrow(0, 0, 3));
  const auto r = recorded_step(labels);
  ASSERT_TRUE(torch::equal(r.predictions, first.predictions));
  const double acc = 100.0 * r.predictions.eq(labels).sum().item<double>() / 8.0;
  ASSERT_EQ(acc, 37.5);
  for (size_t c = 0; c < 2; ++c) {
    // The two samples differ somewhere, so recording the wrong one would show.
    ASSERT_FALSE(torch::equal(r.k_w[c], r.k_alpha[c])) << c;
    const auto rows = torch::arange(5);
    auto ce = torch::zeros({5, 8}, torch::kDouble), ca = torch::zeros({5, 8}, torch::kDouble);
    ce.index_put_({rows, r.k_w[c]}, 1.0);
    ca.index_put_({rows, r.k_alpha[c]}, acc);
    EXPECT_TRUE(torch::equal(r.ce[c], ce)) << c << "\n" << r.ce[c];
    EXPECT_TRUE(torch::equal(r.ca[c], ca)) << c << "\n" << r.ca[c];
    // The alpha step: plain autograd through the same soft sample, then Adam's first step.
    EXPECT_LT(dnas::testing::max_relative_difference({r.grads[c]}, {r.expected_grads[c]}), 1e-4) << c;
    EXPECT_TRUE(torch::allclose(r.alphas[c], r.expected_alphas[c], 0.0, 1e-3 * search::OptimConfig{}.arch_lr)) << c;
  }
}

// end_epoch prunes at the end of 1-based epochs warmup + k * prune_every (here 2 + 3k: 0-based 4,
// 7, ..., 22) until one op per edge is left (7 prunes from 8 ops), and at no other epoch.
TEST(EoinasStrategy, EndEpochPrunesExactlyAtTheConfiguredEpochs) {
  auto cfg = dnas::testing::tiny_supernet_config("darts8");
  for (bool prune : {true, false}) {
    search::EoinasConfig ec;
    ec.warmup_epochs = 2;
    ec.prune_every = 3;
    ec.prune = prune;
    search::EoinasStrategy eoinas(cfg, search::OptimConfig{}, ec);
    std::vector<int64_t> pruned_after;
    for (int64_t e = 0; e < 40; ++e) {
      const int64_t before = eoinas.stats(0).prunes();
      eoinas.end_epoch({e, 40, 0.025});
      ASSERT_EQ(eoinas.stats(1).prunes(), eoinas.stats(0).prunes()) << "both cell types prune together";
      if (eoinas.stats(0).prunes() > before) pruned_after.push_back(e);
      ASSERT_LE(eoinas.stats(0).prunes() - before, 1) << "one prune per epoch";
    }
    if (prune) {
      EXPECT_EQ(pruned_after, (std::vector<int64_t>{4, 7, 10, 13, 16, 19, 22}));
      EXPECT_TRUE(eoinas.stats(0).fully_pruned());
    } else {
      EXPECT_TRUE(pruned_after.empty());
    }
  }
}
