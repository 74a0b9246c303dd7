#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "dnas/genotype/cell_topology.h"
#include "dnas/ops/op_names.h"
#include "dnas/supernet/mixed_op.h"
#include "dnas/supernet/supernet.h"

using namespace dnas;
using supernet::OpMode;

namespace {

std::vector<std::string> darts8() { return ops::op_set("darts8", ops::CellType::Normal); }

std::vector<torch::Tensor> scalars(const torch::Tensor& w) { return w.unbind(0); }

}  // namespace

TEST(MixedOp, SoftMixEqualsTheWeightedSumOfOps) {
  torch::manual_seed(0);
  supernet::MixedOp edge(darts8(), 4, 1);
  edge->eval();
  auto x = torch::randn({2, 4, 6, 6});
  auto w = torch::softmax(torch::randn({8}), 0);
  auto y = edge->forward(x, scalars(w), nullptr);
  auto children = edge->named_children()["_ops"]->children();
  torch::Tensor expected = torch::zeros_like(x);
  for (size_t o = 1; o < children.size(); ++o)  // o = 0 is `none`
    expected += w[o] * std::dynamic_pointer_cast<ops::CandidateOpImpl>(children[o])->forward(x);
  EXPECT_TRUE(torch::allclose(y, expected, 1e-5, 1e-6));
}

TEST(MixedOp, OffOpsAreNotComputedAndNoneNeverIs) {
  supernet::MixedOp edge(darts8(), 4, 1);
  auto x = torch::randn({2, 4, 6, 6});
  auto w = torch::full({8}, 0.125);
  std::vector<OpMode> modes(8, OpMode::Off);
  modes[0] = OpMode::On;  // none: still skipped, its contribution is zero
  modes[4] = OpMode::On;  // sep_conv_3x3
  edge->forward(x, scalars(w), modes.data());
  EXPECT_EQ(edge->evaluations(), 1);
  edge->forward(x, scalars(w), nullptr);
  EXPECT_EQ(edge->evaluations(), 1 + 7);
  std::fill(modes.begin(), modes.end(), OpMode::Off);
  EXPECT_FALSE(edge->forward(x, scalars(w), modes.data()).defined());
}

TEST(MixedOp, NoGradOpsPassGradientOnlyToTheirWeight) {
  torch::manual_seed(5);
  supernet::MixedOp edge(darts8(), 4, 1);
  auto x = torch::randn({2, 4, 6, 6}, torch::requires_grad());
  auto w = torch::full({8}, 0.5, torch::requires_grad());
  std::vector<OpMode> modes(8, OpMode::NoGrad);
  modes[3] = OpMode::On;  // skip_connect keeps the path to x
  auto y = edge->forward(x, scalars(w), modes.data());
  // A random projection: a plain sum would see the zero mean of the ops' batch norm.
  auto g = torch::randn_like(y);
  (y * g).sum().backward();
  auto children = edge->named_children()["_ops"]->children();
  torch::NoGradGuard no_grad;
  auto sep3 = std::dynamic_pointer_cast<ops::CandidateOpImpl>(children[4])->forward(x);
  float expected = (g * sep3).sum().item<float>();
  ASSERT_GT(std::abs(expected), 1e-2f);
  EXPECT_NEAR(w.grad()[4].item<float>(), expected, 1e-4f * (1.f + std::abs(expected)));
  EXPECT_TRUE(torch::allclose(x.grad(), 0.5 * g));  // only through skip
  for (const auto& p : edge->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Supernet, ArgmaxModesComputeOneOpPerEdge) {
  supernet::SupernetConfig cfg;
  cfg.channels = 4;
  cfg.layers = 3;
  cfg.normal_ops = darts8();
  cfg.reduce_ops = darts8();
  supernet::Supernet net(cfg);
  auto onehot = torch::zeros({14, 8});
  onehot.index_put_({torch::indexing::Slice(), 5}, 1.0);  // sep_conv_5x5 everywhere
  supernet::CellMix cell{onehot, supernet::argmax_modes(onehot), {}};
  net->forward(torch::randn({2, 3, 8, 8}), {cell, cell});
  EXPECT_EQ(net->evaluations(), 14 * 3);
}

TEST(Supernet, EdgeScaleMultipliesEdgeOutputs) {
  torch::manual_seed(3);
  supernet::SupernetConfig cfg;
  cfg.channels = 4;
  cfg.layers = 1;
  cfg.steps = 1;  // one node, two edges: out = s0*w0 + s1*w1 through skip only
  cfg.normal_ops = {"skip_connect"};
  cfg.reduce_ops = {"skip_connect"};
  supernet::Supernet net(cfg);
  net->eval();
  auto x = torch::randn({1, 3, 4, 4});
  auto ones = torch::ones({2, 1});
  supernet::CellMix plain{ones, {}, {}};
  supernet::CellMix scaled{ones, {}, torch::tensor({2.0f, 2.0f})};
  // layers=1 makes cell 0 a reduction cell (0 == 1/3 == 2/3)
  auto a = net->cell_outputs(x, {plain, plain})[0];
  auto b = net->cell_outputs(x, {scaled, scaled})[0];
  EXPECT_TRUE(torch::allclose(b, 2 * a, 1e-5, 1e-6));
}
