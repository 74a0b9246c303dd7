// The shared epoch loop: the order of its calls, the statistics it accumulates, a stop and the
// resume from the stopped position against an uninterrupted run, and its errors.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <limits>
#include <string>
#include <vector>

#include "dnas/core/error.h"
#include "dnas/core/signals.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/loop/schedule.h"

using namespace dnas;

namespace {

// 10 examples whose label is their index: a batch's labels name the examples it holds.
data::ImageSet numbered_set() { return {torch::zeros({10, 1, 2, 2}, torch::kUInt8), torch::arange(10, torch::kInt64)}; }

// A loop of 2 epochs of 3 steps over batches of 2 (5 per epoch, so the epoch is cut at 3) that
// logs every call, with a step whose loss is the sum of its example numbers.
struct LoggedLoop {
  data::ImageSet set = numbered_set();
  data::BatchStream stream{set, torch::arange(10, torch::kInt64), 2, /*seed=*/7, /*shuffle=*/true};
  loop::BatchStats train_sum;
  std::vector<std::string> calls;
  std::vector<std::vector<int64_t>> batches;   // the examples of every step run
  std::vector<loop::BatchStats> epoch_totals;  // train_sum as end_epoch saw it
  double nan_at_batch = -1;                    // a step whose first example is this returns a NaN loss
  loop::EpochLoop loop;

  LoggedLoop() {
    loop.name = "test";
    loop.epochs = 2;
    loop.steps_per_epoch = 3;
    loop.progress = false;
    loop.group = nullptr;
    loop.stream = &stream;
    loop.train_loss_error = {"training loss", "test.key", "a hint"};
    loop.train_sum = &train_sum;
    loop.begin_epoch = [this](int64_t e) { calls.push_back("begin " + std::to_string(e)); };
    loop.step = [this](const data::Batch& b) {
      std::vector<int64_t> examples(b.labels.data_ptr<int64_t>(), b.labels.data_ptr<int64_t>() + b.labels.size(0));
      batches.push_back(examples);
      loop::BatchStats s;
      s.count = b.labels.size(0);
      s.loss_sum = b.labels.sum().item<double>();
      s.correct = 1;
      if (examples.front() == nan_at_batch) s.loss_sum = std::numeric_limits<double>::quiet_NaN();
      return loop::StepStats{s, std::nullopt};
    };
    loop.after_steps = [this] { calls.push_back("after_steps"); };
    loop.buffers = [] { return std::vector<torch::Tensor>{}; };
    loop.replicas = [] { return std::vector<loop::Replica>{}; };
    loop.end_epoch = [this](int64_t e, const std::function<double()>& seconds) {
      EXPECT_GE(seconds(), 0.0);
      epoch_totals.push_back(train_sum);
      calls.push_back("end " + std::to_string(e));
    };
    loop.save = [this] { calls.push_back("save"); };
    loop.write_results = [this](const std::string& status, const std::string& error) {
      calls.push_back("results " + status + (error.empty() ? "" : ": " + error));
    };
  }
};

std::shared_ptr<comm::ProcessGroup> solo = comm::solo_group();

}  // namespace

TEST(EpochLoop, CallsItsPartsInOrderAndSumsEachEpochsStatistics) {
  LoggedLoop l;
  l.loop.group = solo.get();
  loop::LoopPosition at;
  loop::run_epochs(l.loop, at);
  const std::vector<std::string> expected = {"begin 0", "after_steps", "end 0", "save", "results running",
                                             "begin 1", "after_steps", "end 1", "save", "results running"};
  EXPECT_EQ(l.calls, expected);
  ASSERT_EQ(l.batches.size(), 6u);
  ASSERT_EQ(l.epoch_totals.size(), 2u);
  for (int e = 0; e < 2; ++e) {
    double sum = 0;
    for (int k = 0; k < 3; ++k)
      for (auto x : l.batches[3 * e + k]) sum += static_cast<double>(x);
    EXPECT_EQ(l.epoch_totals[e].loss_sum, sum);
    EXPECT_EQ(l.epoch_totals[e].count, 6);
    EXPECT_EQ(l.epoch_totals[e].correct, 3);
  }
  EXPECT_EQ(l.train_sum.count, 0);  // reset for the next epoch
  EXPECT_EQ(at.epoch, 2);
  EXPECT_EQ(at.step, 0);
}

TEST(EpochLoop, AStopCheckpointsItsPositionAndTheResumeRunsExactlyTheRemainingSteps) {
  LoggedLoop whole;
  whole.loop.group = solo.get();
  loop::LoopPosition end;
  loop::run_epochs(whole.loop, end);

  LoggedLoop first;
  first.loop.group = solo.get();
  first.loop.stop_after_steps = 4;
  loop::LoopPosition at;
  EXPECT_THROW(loop::run_epochs(first.loop, at), core::Interrupted);
  EXPECT_EQ(at.epoch, 1);  // 3 steps of epoch 0, one of epoch 1
  EXPECT_EQ(at.step, 1);
  EXPECT_EQ(first.calls.back(), "results interrupted");
  EXPECT_EQ(first.calls[first.calls.size() - 2], "save");
  EXPECT_EQ(first.stream.epoch(), 1);
  EXPECT_EQ(first.stream.position(), 1);  // the batch taken at the stop is run after the resume

  LoggedLoop second;  // a new process: fresh stream, the checkpointed position and sums
  second.loop.group = solo.get();
  second.train_sum = first.train_sum;
  loop::run_epochs(second.loop, at);
  auto resumed = first.batches;
  resumed.insert(resumed.end(), second.batches.begin(), second.batches.end());
  EXPECT_EQ(resumed, whole.batches);
  EXPECT_EQ(second.epoch_totals.back().loss_sum, whole.epoch_totals.back().loss_sum);
}

namespace {

// A loop without a stream, as the recurrent space's: the caller's `more_steps` ends an epoch
// after 4 steps (a count the loop is not told), and the step reads its own input, the caller's
// position `next` (part of the caller's checkpoint).
struct CallerStepsLoop {
  int64_t next = 0;
  loop::BatchStats train_sum;
  std::vector<int64_t> taken;     // `next` of every step run
  std::vector<double> described;  // the loss sums the progress line was made from
  loop::EpochLoop loop;

  CallerStepsLoop() {
    loop.name = "caller";
    loop.epochs = 2;
    loop.steps_per_epoch = std::numeric_limits<int64_t>::max();
    loop.expected_steps = 3;  // the progress bar's estimate only
    loop.progress = false;
    loop.group = solo.get();
    loop.train_sum = &train_sum;
    loop.more_steps = [this] { return next < 4; };
    loop.step = [this](const data::Batch& b) {
      EXPECT_FALSE(b.labels.defined());
      taken.push_back(next);
      loop::BatchStats s;
      s.count = 1;
      s.loss_sum = static_cast<double>(next++);
      return loop::StepStats{s, std::nullopt};
    };
    loop.describe = [this](const loop::BatchStats& so_far) {
      described.push_back(so_far.loss_sum);
      return std::string("ppl");
    };
    loop.end_epoch = [this](int64_t, const std::function<double()>&) { next = 0; };
    loop.save = [] {};
    loop.write_results = [](const std::string&, const std::string&) {};
  }
};

}  // namespace

TEST(EpochLoop, WithoutAStreamTheCallerEndsEachEpochAndAStopResumesAtItsStep) {
  CallerStepsLoop whole;
  loop::LoopPosition end;
  loop::run_epochs(whole.loop, end);
  EXPECT_EQ(whole.taken, (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(whole.described, (std::vector<double>{0, 1, 3, 6, 0, 1, 3, 6}));

  CallerStepsLoop first;
  first.loop.stop_after_steps = 6;
  loop::LoopPosition at;
  EXPECT_THROW(loop::run_epochs(first.loop, at), core::Interrupted);
  EXPECT_EQ(at.epoch, 1);
  EXPECT_EQ(at.step, 2);
  CallerStepsLoop second;  // a new process with the caller's checkpointed state
  second.next = first.next;
  second.train_sum = first.train_sum;
  loop::run_epochs(second.loop, at);
  auto resumed = first.taken;
  resumed.insert(resumed.end(), second.taken.begin(), second.taken.end());
  EXPECT_EQ(resumed, whole.taken);
  EXPECT_EQ(second.described.back(), whole.described.back());
}

TEST(EpochLoop, ANonFiniteLossIsAnErrorNamingTheEpochStepAndKey) {
  LoggedLoop l;
  l.loop.group = solo.get();
  LoggedLoop probe;  // the example that starts epoch 0's second batch
  probe.loop.group = solo.get();
  loop::LoopPosition p;
  loop::run_epochs(probe.loop, p);
  l.nan_at_batch = static_cast<double>(probe.batches[1].front());
  loop::LoopPosition at;
  try {
    loop::recording_failure(l.loop.write_results, [&] { loop::run_epochs(l.loop, at); });
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("training loss is not finite at epoch 1 step 1"), std::string::npos) << what;
    EXPECT_NE(what.find("test.key"), std::string::npos) << what;
  }
  EXPECT_EQ(l.calls.back().rfind("results failed: ", 0), 0u) << l.calls.back();
  EXPECT_NE(l.calls.back().find("not finite"), std::string::npos);
}

TEST(EpochLoop, CosineScheduleHitsItsEndpointsAndMidpoint) {
  EXPECT_DOUBLE_EQ(loop::cosine_lr(0.1, 0.0, 0, 10), 0.1);
  EXPECT_DOUBLE_EQ(loop::cosine_lr(0.1, 0.02, 5, 10), 0.06);
  EXPECT_NEAR(loop::cosine_lr(0.1, 0.0, 10, 10), 0.0, 1e-17);
}

TEST(EpochLoop, StepsPerEpochAreTheSettingCappedByTheStreamsBatches) {
  auto set = numbered_set();
  data::BatchStream stream(set, torch::arange(10, torch::kInt64), 4, 0, false);  // batches of 4, 4, 2
  loop::RunSettings run;
  run.stop_after_steps = 7;
  run.progress = false;
  EXPECT_EQ(loop::epoch_loop("t", 2, 0, stream, *solo, run, "ck").steps_per_epoch, 3);
  EXPECT_EQ(loop::epoch_loop("t", 2, 2, stream, *solo, run, "ck").steps_per_epoch, 2);
  EXPECT_EQ(loop::epoch_loop("t", 2, 50, stream, *solo, run, "ck").steps_per_epoch, 3);
  const auto l = loop::epoch_loop("t", 2, 0, stream, *solo, run, "ck");
  EXPECT_EQ(l.stop_after_steps, 7);
  EXPECT_FALSE(l.progress);
  EXPECT_EQ(l.stream, &stream);
}
