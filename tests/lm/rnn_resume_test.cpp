// The recurrent search and retrain on the shared loop: they stop at any step (stop_after_steps,
// as a stop request) with a checkpoint, the resumed run equals the uninterrupted one bit for bit,
// and a non-finite loss is the loop's error.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error_of.h"
#include "dnas/core/signals.h"
#include "dnas/lm/rnn_search.h"
#include "dnas/lm/rnn_train.h"
#include "lm/lm_fixtures.h"

namespace dnas::lm {
namespace {

const Corpus& markov() {
  static const Corpus c = load_corpus(dnas::testing::markov_corpus("resume").string());
  return c;
}

class RnnSearchStops : public ::testing::TestWithParam<std::string> {};

TEST_P(RnnSearchStops, ResumedMidEpochTwiceEqualsTheUninterruptedRun) {
  auto cfg = dnas::testing::tiny_rnn_config("unused", GetParam());  // 2 epochs of 6 steps
  const auto whole = run_rnn_search(markov(), cfg);
  cfg.checkpoint = (dnas::testing::fresh_dir("stops_" + GetParam()) / "checkpoint.h5").string();
  cfg.stop_after_steps = 4;  // after 4 steps of the first epoch
  EXPECT_THROW(run_rnn_search(markov(), cfg), core::Interrupted);
  cfg.resume = true;
  cfg.stop_after_steps = 5;  // the first epoch's last 2 steps, then 3 of the second
  int epoch_ends = 0;
  EXPECT_THROW(run_rnn_search(markov(), cfg, [&](const RnnSearchResult&) { ++epoch_ends; }), core::Interrupted);
  EXPECT_EQ(epoch_ends, 1);
  cfg.stop_after_steps = 0;
  torch::manual_seed(12345);     // the resumed run must restore the generator itself
  std::vector<size_t> reported;  // epochs in the result at each callback
  const auto resumed =
      run_rnn_search(markov(), cfg, [&](const RnnSearchResult& r) { reported.push_back(r.valid_ppl.size()); });
  EXPECT_EQ(reported, (std::vector<size_t>{1, 2}));  // the finished epoch at the resume, then epoch 2's end
  EXPECT_EQ(resumed.train_ppl, whole.train_ppl);
  EXPECT_EQ(resumed.valid_ppl, whole.valid_ppl);
  EXPECT_EQ(resumed.genotypes, whole.genotypes);
  EXPECT_EQ(resumed.weight_steps, whole.weight_steps);
  EXPECT_EQ(resumed.edge_evaluations, whole.edge_evaluations);
  EXPECT_EQ(resumed.weight_step_evaluations, whole.weight_step_evaluations);
  EXPECT_EQ(resumed.weight_step_positions, whole.weight_step_positions);
  ASSERT_EQ(resumed.alphas.size(), whole.alphas.size());
  for (size_t e = 0; e < whole.alphas.size(); ++e) EXPECT_TRUE(torch::equal(resumed.alphas[e], whole.alphas[e]));
}

INSTANTIATE_TEST_SUITE_P(Methods, RnnSearchStops, ::testing::Values("darts_1st", "darts_2nd", "nasp"));

TEST(RnnSearchStops, ANonFiniteLossIsAnErrorNamingTheStepAndTheRun) {
  auto cfg = dnas::testing::tiny_rnn_config("unused", "darts_1st");
  cfg.search.lr = 1e38;  // unclipped: the first weight step overflows
  cfg.search.clip = 0;
  const auto msg = dnas::testing::error_of([&] { run_rnn_search(markov(), cfg); });
  EXPECT_NE(msg.find("is not finite at epoch 1 step"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dnas rnn search (darts_1st)"), std::string::npos) << msg;
}

TEST(RnnRetrainStops, ResumedInTheFirstEpochAndUnderAsgdEqualsTheUninterruptedRun) {
  auto r = dnas::testing::tiny_rnn_config("unused", "darts_1st").retrain;
  r.epochs = 6;
  r.steps_per_epoch = 3;
  r.nonmono = 0;
  const auto g = published_rnn_genotype("DARTS_V1");
  const auto whole = train_rnn(markov(), g, r, false);
  ASSERT_GT(whole.asgd_epoch, 0);
  ASSERT_LE(whole.asgd_epoch, 4);  // averaging in the 5th epoch, where the second stop falls
  r.checkpoint = (dnas::testing::fresh_dir("retrain_stops") / "retrain_checkpoint.h5").string();
  r.stop_after_steps = 2;  // after 2 steps of the first epoch: nothing finished yet
  EXPECT_THROW(train_rnn(markov(), g, r, false), core::Interrupted);
  r.resume = true;
  r.stop_after_steps = 11;  // after the first step of the 5th epoch
  EXPECT_THROW(train_rnn(markov(), g, r, false), core::Interrupted);
  r.stop_after_steps = 0;
  torch::manual_seed(777);
  const auto resumed = train_rnn(markov(), g, r, false);
  EXPECT_EQ(resumed.train_ppl, whole.train_ppl);
  EXPECT_EQ(resumed.valid_ppl, whole.valid_ppl);
  EXPECT_EQ(resumed.best_valid_ppl, whole.best_valid_ppl);
  EXPECT_EQ(resumed.test_ppl, whole.test_ppl);
  EXPECT_EQ(resumed.asgd_epoch, whole.asgd_epoch);
  EXPECT_TRUE(resumed.finished);
}

}  // namespace
}  // namespace dnas::lm
