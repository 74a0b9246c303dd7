// The timing pieces behind `dnas bench --breakdown` (NASP Table 6 columns).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>

#include "dnas/bench/bench.h"
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
