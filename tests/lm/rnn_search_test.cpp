#include "dnas/lm/rnn_search.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error_of.h"
#include "dnas/lm/lm_steps.h"
#include "dnas/lm/rnn_train.h"
#include "lm/lm_fixtures.h"

namespace dnas::lm {
namespace {

const Corpus& markov() {
  static const Corpus c = load_corpus(dnas::testing::markov_corpus("search").string());
  return c;
}

RnnConfig tiny(const std::string& method) { return dnas::testing::tiny_rnn_config("unused", method); }

// One epoch of one step, no decoupled weight decay on the alphas, and an architecture step too
// small to change a float (arch_lr 1e-30): its alphas are the start of the step.
RnnConfig one_step_without_arch_decay(const std::string& method) {
  auto cfg = tiny(method);
  cfg.search.epochs = 1;
  cfg.search.steps_per_epoch = 1;
  cfg.search.arch_weight_decay = 0;
  cfg.search.arch_lr = 1e-30;
  return cfg;
}

class RnnSearchMethods : public ::testing::TestWithParam<std::string> {};

TEST_P(RnnSearchMethods, DeterministicAndRecordsEveryEpoch) {
  const auto cfg = tiny(GetParam());
  int callbacks = 0;
  const auto a = run_rnn_search(markov(), cfg, [&](const RnnSearchResult&) { ++callbacks; });
  const auto b = run_rnn_search(markov(), cfg);
  EXPECT_EQ(callbacks, 2);
  ASSERT_EQ(a.valid_ppl.size(), 2u);
  ASSERT_EQ(a.alphas.size(), 2u);
  // DARTS searches none + 4 activations by default, NASP the 4 activations (docs/methods.md 7).
  const int64_t ops = GetParam() == "nasp" ? 4 : 5;
  EXPECT_EQ(a.alphas[0].sizes(), (torch::IntArrayRef{36, ops}));
  EXPECT_EQ(a.ops.front() == "none", GetParam() != "nasp");
  EXPECT_EQ(a.weight_steps, 12);
  EXPECT_EQ(format_rnn_genotype(a.genotype), format_rnn_genotype(b.genotype));
  EXPECT_EQ(a.valid_ppl, b.valid_ppl);
  EXPECT_TRUE(torch::equal(a.alphas.back(), b.alphas.back()));
  // The perplexity is a real one: above 1, below a uniform guess x 2.
  EXPECT_GT(a.valid_ppl.back(), 1.0);
  EXPECT_LT(a.valid_ppl.back(), 2.0 * static_cast<double>(markov().vocab_size()));
  // Another seed is another run.
  auto other = cfg;
  other.search.seed = 9;
  EXPECT_NE(run_rnn_search(markov(), other).valid_ppl, a.valid_ppl);
}

TEST_P(RnnSearchMethods, ResumedFromAnEpochCheckpointEqualsTheUninterruptedRun) {
  const auto dir = dnas::testing::fresh_dir("resume_" + GetParam());
  auto cfg = tiny(GetParam());
  cfg.search.epochs = 3;
  const auto whole = run_rnn_search(markov(), cfg);
  cfg.checkpoint = (dir / "checkpoint.h5").string();
  cfg.search.epochs = 1;
  run_rnn_search(markov(), cfg);
  torch::manual_seed(12345);  // the resumed run must restore the generator itself
  cfg.search.epochs = 3;
  cfg.resume = true;
  const auto resumed = run_rnn_search(markov(), cfg);
  EXPECT_EQ(resumed.valid_ppl, whole.valid_ppl);
  EXPECT_EQ(resumed.train_ppl, whole.train_ppl);
  EXPECT_EQ(resumed.genotypes, whole.genotypes);
  EXPECT_EQ(resumed.weight_steps, whole.weight_steps);
  EXPECT_EQ(resumed.edge_evaluations, whole.edge_evaluations);
  ASSERT_EQ(resumed.alphas.size(), 3u);
  EXPECT_TRUE(torch::equal(resumed.alphas.back(), whole.alphas.back()));
  // Another method's or seed's checkpoint is refused, naming the file.
  auto other = cfg;
  other.search.seed = 99;
  const auto msg = dnas::testing::error_of([&] { run_rnn_search(markov(), other); });
  EXPECT_NE(msg.find("checkpoint.h5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("seed 2"), std::string::npos) << msg;
}

// The first architecture step is Adam's first step: with search.arch_weight_decay = 0 it moves
// each entry by lr * |g| / (|g| + 1e-8): never more than lr, by lr where |g| >> 1e-8 (the largest
// move), and not at all where g = 0 (coupled weight decay would instead move every entry by lr
// whatever g). The start comes from a run whose step is too small to change a float (arch_lr 1e-30).
TEST_P(RnnSearchMethods, FirstArchitectureStepIsAdamsFirstStepOnEveryAlpha) {
  auto cfg = one_step_without_arch_decay(GetParam());
  const auto start = run_rnn_search(markov(), cfg).alphas.at(0);
  const double lr = 1e-3;
  cfg.search.arch_lr = lr;
  const auto moved = (run_rnn_search(markov(), cfg).alphas.at(0) - start).abs();
  if (GetParam() == "nasp") {
    EXPECT_TRUE(torch::equal(start, torch::full_like(start, 0.5)));  // NASP's init
  }
  EXPECT_NEAR(moved.max().item<double>(), lr, 1e-4 * lr);
  EXPECT_GT(moved.min().item<double>(), 0.0) << "an alpha got no gradient";
}

// One step of a bf16 search (products in bf16; states, losses, alphas and the DARTS Hessian
// term in float32) against the same step in float32: Adam's first step moves each alpha by
// lr * sign(g), so the signs of the two architecture gradients must agree almost everywhere,
// and the perplexity after the step must agree to a few bf16 roundings, yet not exactly.
TEST_P(RnnSearchMethods, Bf16StepFollowsFloat32) {
  auto cfg = one_step_without_arch_decay(GetParam());
  const auto start = run_rnn_search(markov(), cfg).alphas.at(0);
  cfg.search.arch_lr = 1e-3;
  const auto fp32 = run_rnn_search(markov(), cfg);
  cfg.model.precision = ops::Precision::Bf16;
  const auto bf16 = run_rnn_search(markov(), cfg);
  EXPECT_NE(bf16.valid_ppl, fp32.valid_ppl) << "bf16 gave float32's result: the switch is not in effect";
  EXPECT_NEAR(bf16.valid_ppl.at(0) / fp32.valid_ppl.at(0), 1.0, 0.01);  // measured: 2e-5 .. 4e-3
  const auto& a16 = bf16.alphas.at(0);
  EXPECT_EQ(a16.scalar_type(), torch::kFloat32);
  const auto agree = ((a16 - start).sign() == (fp32.alphas.at(0) - start).sign()).to(torch::kDouble).mean();
  EXPECT_GT(agree.item<double>(), 0.95);  // measured: 1, 1, 0.993 (darts_1st, darts_2nd, nasp)
}

INSTANTIATE_TEST_SUITE_P(Methods, RnnSearchMethods, ::testing::Values("darts_1st", "darts_2nd", "nasp"));

TEST(RnnSearch, NaspKeepsAlphasInTheBoxAndComputesFewerEdges) {
  const auto nasp = run_rnn_search(markov(), tiny("nasp"));
  const auto darts = run_rnn_search(markov(), tiny("darts_1st"));
  // Weight steps: NASP runs one (predecessor, activation) pair per node, DARTS all of them.
  ASSERT_GT(nasp.weight_step_positions, 0);
  EXPECT_EQ(nasp.weight_step_evaluations, 8 * nasp.weight_step_positions);
  EXPECT_EQ(darts.weight_step_evaluations, 36 * 4 * darts.weight_step_positions);  // `none` is never computed
  // Same seed -> same sequence lengths. DARTS computes all 36 x 4 pairs in every forward;
  // NASP only in the arch step (8 per node set otherwise): the weight steps and evaluations
  // account for the difference.
  EXPECT_LT(nasp.edge_evaluations, darts.edge_evaluations * 6 / 10);
  EXPECT_GT(nasp.edge_evaluations, 0);
}

TEST(RnnSearch, NaspClipsAlphasOntoTheBox) {
  // Adam steps of 0.3 from 0.5 would leave [0, 1] within two steps: the proximal clip must
  // hold every alpha in the box, with some of them on its faces.
  auto cfg = tiny("nasp");
  cfg.search.arch_lr = 0.3;
  const auto r = run_rnn_search(markov(), cfg);
  for (const auto& a : r.alphas) {
    EXPECT_GE(a.min().item<float>(), 0.0f);
    EXPECT_LE(a.max().item<float>(), 1.0f);
  }
  const auto last = r.alphas.back();
  EXPECT_GT((last.eq(0) | last.eq(1)).sum().item<int64_t>(), 0);
}

TEST(RnnSearch, BadSettingsNameTheKey) {
  auto cfg = tiny("gdas");
  EXPECT_NE(dnas::testing::error_of([&] { run_rnn_search(markov(), cfg); }).find("search.method"), std::string::npos);
  cfg = tiny("nasp");
  cfg.search.ops = {"none", "tanh"};
  EXPECT_NE(dnas::testing::error_of([&] { run_rnn_search(markov(), cfg); }).find("contains none"), std::string::npos);
  cfg = tiny("darts_1st");
  cfg.search.ops = {"tanh", "gelu"};
  EXPECT_NE(dnas::testing::error_of([&] { run_rnn_search(markov(), cfg); }).find("unknown op 'gelu'"),
            std::string::npos);
  cfg = tiny("darts_1st");
  cfg.model.dropout_h = 1.0;
  EXPECT_NE(dnas::testing::error_of([&] { run_rnn_search(markov(), cfg); }).find("model.dropout_h"), std::string::npos);
  cfg = tiny("darts_1st");
  cfg.search.batch_size = 100000;
  EXPECT_NE(dnas::testing::error_of([&] { run_rnn_search(markov(), cfg); }).find("too few for batch size"),
            std::string::npos);
}

TEST(RnnRetrain, LearnsTheMarkovCorpusAndIsDeterministic) {
  auto r = tiny("darts_1st").retrain;
  r.epochs = 3;
  r.steps_per_epoch = 30;
  const auto g = published_rnn_genotype("DARTS_V2");
  std::vector<double> seen;
  const auto a = train_rnn(markov(), g, r, false, [&](const RnnTrainResult& p) { seen.push_back(p.valid_ppl.back()); });
  const auto b = train_rnn(markov(), g, r, false);
  const double vocab = static_cast<double>(markov().vocab_size());  // 13: a uniform guess has ppl 13
  EXPECT_EQ(seen, a.valid_ppl);
  EXPECT_EQ(a.valid_ppl, b.valid_ppl);
  EXPECT_EQ(a.test_ppl, b.test_ppl);
  EXPECT_LT(a.best_valid_ppl, vocab / 2) << "the next word is mostly determined by the current one";
  EXPECT_LT(a.test_ppl, vocab / 2);
  EXPECT_GT(a.test_ppl, 1.0);
  EXPECT_EQ(a.params, 13 * 24 + 13 + 48 * 48 + 8 * 24 * 48);
  EXPECT_TRUE(a.finished);
}

TEST(RnnRetrain, SwitchesToAveragedSgdWhenValidationStalls) {
  auto r = tiny("darts_1st").retrain;
  r.epochs = 8;
  r.steps_per_epoch = 3;
  r.lr = 20;  // large noisy steps: a non-improving epoch comes quickly
  r.nonmono = 0;
  const auto g = published_rnn_genotype("DARTS_V1");
  const auto a = train_rnn(markov(), g, r, false);
  ASSERT_GT(a.asgd_epoch, 0);
  // The switch happens at the first epoch that is not a new best.
  int first_worse = -1;
  for (size_t e = 1; e < a.valid_ppl.size() && first_worse < 0; ++e)
    if (a.valid_ppl[e] >= *std::min_element(a.valid_ppl.begin(), a.valid_ppl.begin() + static_cast<long>(e)))
      first_worse = static_cast<int>(e) + 1;
  EXPECT_EQ(a.asgd_epoch, first_worse);
  r.asgd = false;
  EXPECT_EQ(train_rnn(markov(), g, r, false).asgd_epoch, -1);
}

TEST(RnnRetrain, ResumedFromAnEpochCheckpointEqualsTheUninterruptedRun) {
  auto r = tiny("darts_1st").retrain;  // the settings above: ASGD starts at epoch 3
  r.epochs = 6;
  r.steps_per_epoch = 3;
  r.nonmono = 0;
  const auto g = published_rnn_genotype("DARTS_V1");
  const auto whole = train_rnn(markov(), g, r, false);
  ASSERT_GT(whole.asgd_epoch, 0);
  ASSERT_LT(whole.asgd_epoch, 5);
  r.checkpoint = (dnas::testing::fresh_dir("retrain_resume") / "retrain_checkpoint.h5").string();
  r.epochs = 5;  // stops after the switch: the average is part of the checkpoint
  train_rnn(markov(), g, r, false);
  r.epochs = 6;
  r.resume = true;
  torch::manual_seed(777);
  const auto resumed = train_rnn(markov(), g, r, false);
  EXPECT_EQ(resumed.valid_ppl, whole.valid_ppl);
  EXPECT_EQ(resumed.train_ppl, whole.train_ppl);
  EXPECT_EQ(resumed.test_ppl, whole.test_ppl);
  EXPECT_EQ(resumed.asgd_epoch, whole.asgd_epoch);
  const auto msg = dnas::testing::error_of([&] { train_rnn(markov(), published_rnn_genotype("DARTS_V2"), r, false); });
  EXPECT_NE(msg.find("checkpoint of another genotype"), std::string::npos) << msg;
}

TEST(SequenceLength, ReferenceDistributionWithinFiveAndBpttPlusTwenty) {
  constexpr int kDraws = 200000;
  std::mt19937_64 rng(7);
  int64_t lo = 1000, hi = 0, at_least_27 = 0;
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t n = sample_seq_len(rng, 35);
    lo = std::min(lo, n);
    hi = std::max(hi, n);
    sum += static_cast<double>(n);
    at_least_27 += n >= 27;
  }
  EXPECT_EQ(lo, 5);
  EXPECT_EQ(hi, 55);  // 4 std above 35 happens a few times in 200k draws: the cap holds them
  // n = trunc(N(35, 5)) w.p. 0.95, trunc(N(17.5, 5)) otherwise: E[n] = 0.95*35 + 0.05*17.5 - 0.5,
  // P(n >= 27) = 0.95*Phi(8/5) + 0.05*(1 - Phi(9.5/5)) = 0.89938 (sampling std 0.014 and 0.0007).
  EXPECT_NEAR(sum / kDraws, 33.625, 0.07);
  EXPECT_NEAR(static_cast<double>(at_least_27) / kDraws, 0.89938, 0.004);
}

}  // namespace
}  // namespace dnas::lm
