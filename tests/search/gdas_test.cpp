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

// The straight-through gradient is dh/dalpha of h = softmax(alpha + g) (tau 1; log_softmax only
// shifts alpha): d(h . v)/dalpha_j = h_j (v_j - h . v), non-zero on every op of the edge.
TEST(Gdas, StraightThroughGradientReachesEveryAlphaOfTheEdge) {
  torch::manual_seed(1);
  auto alpha = torch::randn({1, 8}, torch::requires_grad());
  auto d = search::gumbel_straight_through(alpha, 1.0);
  auto value = torch::arange(8, torch::kFloat32);  // loss depends on which op is weighted
  auto g = torch::autograd::grad({(d.hard * value).sum()}, {alpha})[0];
  torch::manual_seed(1);
  torch::randn({1, 8});
  const auto gumbel = -torch::empty({1, 8}).exponential_().log();  // the draw's noise, from the same sequence
  const auto h = torch::softmax(alpha.detach() + gumbel, -1);
  const auto expected = h * (value - (h * value).sum());
  EXPECT_TRUE(torch::allclose(g, expected, 1e-5, 1e-7)) << g << expected;
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

// A step draws four samples in order: the w step's (normal, reduce), then the alpha step's. Each
// forward computes exactly the drawn op of every edge of every cell (a drawn `none` costs
// nothing), and the alpha step is Adam's first step on the straight-through gradient of its own
// sample, both recomputed here from the same generator sequence.
TEST(Gdas, OnlyTheSampledOpIsComputedOnEveryEdge) {
  torch::manual_seed(3);
  auto cfg = dnas::testing::tiny_supernet_config();  // darts8: `none` is op 0; 3 cells of 5 edges
  supernet::Supernet net(cfg);
  search::WeightTrainer weights(net, {});
  const search::OptimConfig optim;
  search::GdasStrategy gdas(cfg, optim, search::GdasConfig{});
  auto train = dnas::testing::random_batch(4), val = dnas::testing::random_batch(4);
  const double tau = gdas.tau();
  const auto alpha0 = dnas::testing::snapshot(gdas.arch().list());
  torch::manual_seed(8);
  std::vector<torch::Tensor> gumbel;
  for (int i = 0; i < 4; ++i) gumbel.push_back(-torch::empty({5, 8}).exponential_().log());
  std::vector<torch::Tensor> drawn;  // [5] per draw
  for (size_t i = 0; i < 4; ++i) drawn.push_back((torch::log_softmax(alpha0[i % 2], -1) + gumbel[i]).argmax(-1));
  int64_t expected_evaluations = 0;
  for (int forward = 0; forward < 2; ++forward)
    for (int64_t cell = 0; cell < cfg.layers; ++cell) {
      const auto& k = drawn[static_cast<size_t>(2 * forward + (supernet::is_reduction_cell(cell, cfg.layers) ? 1 : 0))];
      expected_evaluations += k.ne(0).sum().item<int64_t>();
    }
  const int64_t before = net->evaluations();
  torch::manual_seed(8);
  gdas.step(weights, {train, val, {}}, search::EpochInfo{});
  EXPECT_EQ(net->evaluations() - before, expected_evaluations);

  // The alpha step's forward ran at the weights after the w step (the alpha update leaves them).
  const auto leaves = dnas::testing::leaf_copies(alpha0);
  auto cell = [&](size_t c) {
    const auto h = torch::softmax((torch::log_softmax(leaves[c], -1) + gumbel[2 + c]) / tau, -1);
    const auto hard = torch::zeros_like(h).scatter_(1, drawn[2 + c].unsqueeze(1), 1.0) - h.detach() + h;
    return supernet::CellMix{hard, supernet::argmax_modes(hard.detach()), {}};
  };
  const auto expected =
      dnas::testing::grads_of(torch::cross_entropy_loss(net->forward(val.x, {cell(0), cell(1)}), val.y), leaves);
  const auto& a = gdas.arch();
  EXPECT_LT(dnas::testing::max_relative_difference({a.alpha_normal.grad(), a.alpha_reduce.grad()}, expected), 1e-4);
  for (size_t k = 0; k < 2; ++k) {
    const auto adam = dnas::testing::adam_first_step(alpha0[k], expected[k], optim);
    EXPECT_TRUE(torch::allclose(a.list()[k].detach(), adam, 0.0, 1e-3 * optim.arch_lr)) << "cell type " << k;
  }
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

// Normal cells whose edges from the previous cell all draw `none` read only the cell two back, so
// in a 5-cell net (reductions at 1 and 3) the reduction cells are off every path to the loss:
// their alphas get no gradient and Adam leaves them exactly as they were (no decay either), as
// PyTorch skips a parameter without .grad. The step must not fail on the unused tensor.
TEST(Gdas, ACellTypeOffThePathToTheLossIsLeftAlone) {
  torch::manual_seed(5);
  auto cfg = dnas::testing::tiny_supernet_config();  // darts8, steps 2: edges 1 and 3 read s1
  cfg.layers = 5;
  supernet::Supernet net(cfg);
  search::WeightTrainer weights(net, {});
  search::GdasStrategy gdas(cfg, search::OptimConfig{}, search::GdasConfig{});
  {
    torch::NoGradGuard no_grad;
    auto& normal = gdas.arch().alpha_normal;
    normal.zero_();
    for (int64_t e : {1, 3}) normal[e][0].fill_(100.0);  // `none` beyond any Gumbel draw
  }
  const auto before = dnas::testing::snapshot(gdas.arch().list());
  ASSERT_NO_THROW(
      gdas.step(weights, {dnas::testing::random_batch(4), dnas::testing::random_batch(4), {}}, search::EpochInfo{}));
  const auto& a = gdas.arch();
  EXPECT_FALSE(a.alpha_reduce.grad().defined());
  EXPECT_TRUE(torch::equal(a.alpha_reduce.detach(), before[1]));
  ASSERT_TRUE(a.alpha_normal.grad().defined());
  EXPECT_FALSE(torch::equal(a.alpha_normal.detach(), before[0]));
}
