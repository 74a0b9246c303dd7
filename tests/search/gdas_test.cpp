#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/search/gdas.h"
#include "search/search_fixtures.h"

using namespace dnas;

TEST(Gdas, DrawIsExactlyOneHotInValueAndSumsToOne) {
  torch::manual_seed(0);
  auto alpha = torch::randn({14, 8}, torch::requires_grad());
  for (double tau : {10.0, 1.0, 0.1}) {
    auto d = search::gumbel_straight_through(alpha, tau);
    EXPECT_TRUE(torch::allclose(d.hard.sum(-1), torch::ones({14}), 0, 1e-6));
    EXPECT_EQ(d.hard.detach().eq(1.0).sum().item<int64_t>(), 14);
    EXPECT_EQ(d.hard.detach().eq(0.0).sum().item<int64_t>(), 14 * 7);
    EXPECT_TRUE(torch::equal(d.hard.detach().argmax(-1), d.index));
  }
}

TEST(Gdas, StraightThroughGradientReachesEveryAlphaOfTheEdge) {
  torch::manual_seed(1);
  auto alpha = torch::randn({1, 8}, torch::requires_grad());
  auto d = search::gumbel_straight_through(alpha, 1.0);
  auto value = torch::arange(8, torch::kFloat32);  // loss depends on which op is weighted
  auto g = torch::autograd::grad({(d.hard * value).sum()}, {alpha})[0];
  EXPECT_EQ(g.ne(0).sum().item<int64_t>(), 8);
}

TEST(Gdas, SampleFrequenciesMatchTheSoftmaxAtAnyTemperature) {
  torch::manual_seed(2);
  auto alpha = torch::tensor({{1.0f, 0.0f, -1.0f, 0.5f}});
  auto p = torch::softmax(alpha, -1)[0];
  const int draws = 20000;
  for (double tau : {10.0, 0.1}) {
    std::vector<int> counts(4, 0);
    for (int i = 0; i < draws; ++i) counts[search::gumbel_straight_through(alpha, tau).index[0].item<int64_t>()]++;
    for (int o = 0; o < 4; ++o) {
      const double expected = p[o].item<double>();
      const double sd = std::sqrt(expected * (1 - expected) / draws);
      EXPECT_NEAR(counts[o] / double(draws), expected, 5 * sd) << "op " << o << " tau " << tau;
    }
  }
}

TEST(Gdas, TemperatureIsLinearFromTauMaxToTauMin) {
  EXPECT_DOUBLE_EQ(search::gdas_tau(0, 50, 10, 0.1), 10.0);
  EXPECT_NEAR(search::gdas_tau(49, 50, 10, 0.1), 0.1, 1e-12);
  EXPECT_NEAR(search::gdas_tau(1, 50, 10, 0.1), 10 - 9.9 / 49, 1e-12);
}

TEST(Gdas, OnlyTheSampledOpIsComputedOnEveryEdge) {
  torch::manual_seed(3);
  auto cfg = dnas::testing::tiny_supernet_config();
  supernet::Supernet net(cfg);
  search::WeightTrainer weights(net, {});
  search::GdasStrategy gdas(cfg, search::OptimConfig{}, search::GdasConfig{});
  auto train = dnas::testing::random_batch(4);
  auto before = gdas.arch().alpha_normal.detach().clone();
  gdas.step(weights, {train, train, {}}, search::EpochInfo{});
  // one forward for w and one for alpha; at most one op per edge (a drawn `none` costs nothing)
  EXPECT_LE(net->evaluations(), 2 * 5 * 3);
  EXPECT_GE(net->evaluations(), 2 * 5 * 3 / 2);
  EXPECT_FALSE(torch::equal(before, gdas.arch().alpha_normal.detach()));
}

TEST(Gdas, AutodlDerivationMayReuseASource) {
  // steps=1: state 2 has edges from 0 and 1; the two strongest pairs both come from state 0.
  auto w = torch::tensor({{0.0f, 0.5f, 0.4f}, {0.0f, 0.05f, 0.05f}});
  auto cell = search::derive_autodl(w, {"none", "skip_connect", "sep_conv_3x3"}, 1);
  ASSERT_EQ(cell.nodes.size(), 1u);
  EXPECT_EQ(cell.nodes[0][0].op, "skip_connect");
  EXPECT_EQ(cell.nodes[0][0].src, 0);
  EXPECT_EQ(cell.nodes[0][1].op, "sep_conv_3x3");
  EXPECT_EQ(cell.nodes[0][1].src, 0);
}

TEST(Gdas, InferenceRunsTheStrongestOpOtherThanNone) {
  auto cfg = dnas::testing::tiny_supernet_config();
  search::GdasStrategy gdas(cfg, search::OptimConfig{}, search::GdasConfig{});
  {
    torch::NoGradGuard no_grad;
    gdas.arch().alpha_normal.zero_();
    gdas.arch().alpha_normal.select(1, 0).fill_(5.0);  // `none` strongest everywhere
    gdas.arch().alpha_normal.select(1, 4).fill_(1.0);  // then sep_conv_3x3
  }
  auto mix = gdas.inference_mix();
  EXPECT_TRUE(torch::equal(mix.normal.weights.argmax(-1), torch::full({5}, 4, torch::kLong)));
  EXPECT_EQ(mix.normal.mode(0, 0, 8), supernet::OpMode::Off);
  EXPECT_EQ(mix.normal.mode(0, 4, 8), supernet::OpMode::On);
}
