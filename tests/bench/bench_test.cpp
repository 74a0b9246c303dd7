// The timing pieces behind `dnas bench --breakdown` (NASP Table 6 columns).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>

#include "dnas/bench/bench.h"
#include "dnas/bench/case_profile.h"
#include "dnas/search/weight_trainer.h"
#include "search/search_fixtures.h"

using namespace dnas;

TEST(Bench, WeightStepTimesSplitTheStepIntoForwardAndBackward) {
  torch::manual_seed(0);
  auto cfg = dnas::testing::tiny_supernet_config();
  supernet::Supernet net(cfg);
  search::WeightTrainer weights(net, {});
  const auto batch = dnas::testing::random_batch(4);
  const auto mix =
      supernet::ArchMix{supernet::soft_mix(torch::full({5, 8}, 0.125)), supernet::soft_mix(torch::full({5, 8}, 0.125))};
  weights.step(batch, mix);
  EXPECT_EQ(weights.step_times().steps, 0);  // timing is off by default
  weights.time_steps(true);
  const auto t0 = std::chrono::steady_clock::now();
  weights.step(batch, mix);
  weights.step(batch, mix);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& t = weights.step_times();
  EXPECT_EQ(t.steps, 2);
  EXPECT_GT(t.forward, 0.0);
  EXPECT_GT(t.backward, 0.0);
  EXPECT_LE(t.forward + t.backward, wall);
}

TEST(Bench, BreakdownScalesPerIterationPartsToAnEpoch) {
  bench::BenchRow r{"paper", "darts_1st", 1.0, 0.9, 100, 0.2, 0.3};
  const auto table = bench::format_breakdown_table({r}, 10);
  // alpha update = 1.0 - 0.2 - 0.3 = 0.5 s per iteration -> 5 s per epoch of 10 iterations.
  EXPECT_NE(table.find("| paper | darts_1st | 5 | 2 | 3 | 10 | 1.000 |"), std::string::npos) << table;
}

TEST(Bench, TableGivesTheShareOfThePeakForCountedModes) {
  bench::BenchRow counted{"small", "retrain", 0.5, 0.4, 100};
  counted.gflops = 50;
  const bench::BenchRow uncounted{"small", "gdas", 0.5, 0.4, 100};
  const auto table = bench::format_bench_table({counted, uncounted}, 2, /*peak_gflops=*/200);
  EXPECT_NE(table.find("| small | retrain | 0.500 | 0.400 | 100 | 50.0 | 25 % |"), std::string::npos) << table;
  EXPECT_NE(table.find("| small | gdas | 0.500 | 0.400 | 100 | - | - |"), std::string::npos) << table;
}

// Self time by hand: on thread 0, A spans 1..11 us and holds B twice (2..5 and 6..7 us), so A's
// self time is 10 - 3 - 1 = 6 us and B's 4 us in 2 calls; on thread 1, C spans 1..4 us and a pop
// whose push is on no stack is left out.
TEST(Bench, ProfileSelfTimesSubtractNestedRangesByHand) {
  namespace prof = torch::autograd::profiler;
  auto event = [](prof::EventKind kind, const char* name, uint64_t handle, int64_t ns) {
    return prof::LegacyEvent(kind, at::StringView(name), /*thread_id=*/0, handle, {}, /*node_id=*/-1,
                             /*is_remote=*/false, /*cpu_memory_usage=*/0, ns, /*cuda_recorded=*/false);
  };
  using K = prof::EventKind;
  prof::thread_event_lists lists(2);
  for (auto e :
       {event(K::PushRange, "A", 1, 1000), event(K::PushRange, "B", 2, 2000), event(K::PopRange, "B", 2, 5000),
        event(K::PushRange, "B", 3, 6000), event(K::PopRange, "B", 3, 7000), event(K::PopRange, "A", 1, 11000)})
    lists[0].push_back(e);
  for (auto e :
       {event(K::PushRange, "C", 4, 1000), event(K::PopRange, "X", 99, 2000), event(K::PopRange, "C", 4, 4000)})
    lists[1].push_back(e);
  const auto t = bench::op_self_times(lists);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_DOUBLE_EQ(t.at("A").self_us, 6.0);
  EXPECT_EQ(t.at("A").calls, 1);
  EXPECT_DOUBLE_EQ(t.at("B").self_us, 4.0);
  EXPECT_EQ(t.at("B").calls, 2);
  EXPECT_DOUBLE_EQ(t.at("C").self_us, 3.0);
}
