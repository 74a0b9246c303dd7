// The DARTS_V2 evaluation network and a supernet in bf16 against the same weights in float32:
// float32 logits, float32 weights and statistics, and values within bfloat16 tolerance.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/eval/eval_network.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/published.h"
#include "dnas/ops/op_names.h"
#include "dnas/ops/precision.h"
#include "dnas/supernet/supernet.h"

using namespace dnas;

namespace {

// max |a - b| / max |b|
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (a * b).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
}

torch::Tensor flat_gradients(torch::nn::Module& m) {
  std::vector<torch::Tensor> g;
  for (const auto& p : m.parameters())
    if (p.grad().defined()) g.push_back(p.grad().flatten().clone());
  return torch::cat(g);
}

}  // namespace

TEST(Bf16, EvalNetworkMatchesFloat32WithinBfloat16Tolerance) {
  torch::manual_seed(0);
  eval::EvalNetworkConfig cfg;
  cfg.channels = 8;
  cfg.layers = 5;
  cfg.precision = ops::Precision::Bf16;
  eval::EvalNetwork net(genotype::published_genotype("DARTS_V2"), cfg);
  // training mode: batch statistics (drop-path is off), and the aux head
  const auto x = torch::randn({4, 3, 32, 32});
  const auto y = torch::randint(0, 10, {4});

  auto pass = [&](bool full) {
    std::optional<ops::FullPrecisionScope> scope;
    if (full) scope.emplace();
    net->zero_grad();
    auto out = net->forward(x);
    (torch::cross_entropy_loss(out.logits, y) + 0.4 * torch::cross_entropy_loss(out.aux_logits, y)).backward();

    return std::make_pair(out.logits.detach(), flat_gradients(*net));
  };
  const auto [logits32, grads32] = pass(true);
  const auto [logits16, grads16] = pass(false);
  EXPECT_EQ(logits16.scalar_type(), torch::kFloat32);
  EXPECT_EQ(grads16.scalar_type(), torch::kFloat32);  // the gradients of fp32 weights
  for (const auto& p : net->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat32);
  for (const auto& b : net->buffers()) EXPECT_NE(b.scalar_type(), torch::kBFloat16);
  EXPECT_FALSE(torch::equal(logits16, logits32));  // bf16 really ran
  // 5 cells of convolutions, each rounding its inputs and outputs to 8 bits. Batch norm over 4
  // images cancels most of each activation, so the weight gradients agree only in direction:
  // the reference model.py under torch.autocast("cpu", bfloat16) at this shape and batch gives
  // a cosine of 0.89 (0.96 at batch 32) and a logit error of 0.024.
  EXPECT_LT(relative_error(logits16, logits32), 0.05);
  EXPECT_GT(cosine(grads16, grads32), 0.8);
}

TEST(Bf16, SupernetMatchesFloat32AndKeepsTheArchitectureGradientFloat32) {
  torch::manual_seed(1);
  supernet::SupernetConfig cfg;
  cfg.channels = 4;
  cfg.layers = 3;
  cfg.steps = 2;
  cfg.normal_ops = ops::op_set("darts8", ops::CellType::Normal);
  cfg.reduce_ops = ops::op_set("darts8", ops::CellType::Reduce);
  cfg.precision = ops::Precision::Bf16;
  supernet::Supernet net(cfg);
  const int64_t E = genotype::num_edges(cfg.steps), K = static_cast<int64_t>(cfg.normal_ops.size());
  auto alpha = torch::randn({E, K}).mul_(0.5).requires_grad_();
  const auto x = torch::randn({6, 3, 16, 16});
  const auto y = torch::randint(0, 10, {6});

  auto pass = [&](bool full) {
    std::optional<ops::FullPrecisionScope> scope;
    if (full) scope.emplace();
    const auto w = torch::softmax(alpha, -1);
    const supernet::ArchMix mix{supernet::soft_mix(w), supernet::soft_mix(w)};
    auto logits = net->forward(x, mix);
    auto grad = torch::autograd::grad({torch::cross_entropy_loss(logits, y)}, {alpha})[0];
    return std::make_pair(logits.detach(), grad);
  };
  const auto [logits32, grad32] = pass(true);
  const auto [logits16, grad16] = pass(false);
  EXPECT_EQ(logits16.scalar_type(), torch::kFloat32);
  EXPECT_EQ(grad16.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(torch::equal(logits16, logits32));
  EXPECT_LT(relative_error(logits16, logits32), 0.05);
  EXPECT_GT(cosine(grad16, grad32), 0.98);
}
