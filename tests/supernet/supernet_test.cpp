#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/genotype/cell_topology.h"
#include "dnas/ops/op_names.h"
#include "dnas/supernet/supernet.h"

using namespace dnas;

namespace {

supernet::SupernetConfig config(const std::string& op_set, int64_t c, int64_t layers, int64_t in_channels = 3,
                                int64_t steps = 4) {
  supernet::SupernetConfig cfg;
  cfg.in_channels = in_channels;
  cfg.channels = c;
  cfg.layers = layers;
  cfg.steps = steps;
  cfg.normal_ops = ops::op_set(op_set, ops::CellType::Normal);
  cfg.reduce_ops = ops::op_set(op_set, ops::CellType::Reduce);
  return cfg;
}

supernet::ArchMix uniform_mix(const supernet::SupernetConfig& cfg) {
  const int64_t E = genotype::num_edges(cfg.steps);
  auto n = static_cast<int64_t>(cfg.normal_ops.size()), r = static_cast<int64_t>(cfg.reduce_ops.size());
  return {supernet::soft_mix(torch::full({E, n}, 1.0 / n)), supernet::soft_mix(torch::full({E, r}, 1.0 / r))};
}

}  // namespace

TEST(CellTopology, EdgeIndexingOracles) {
  EXPECT_EQ(genotype::num_edges(4), 14);
  EXPECT_EQ(genotype::num_edges(6), 27);
  EXPECT_EQ(genotype::edge_index(3, 2), 4);
  EXPECT_EQ(genotype::edge_index(5, 4), 13);
  // canonical order enumerates 0..E-1 without gaps
  int expected = 0;
  for (int s = 2; s < 8; ++s)
    for (int j = 0; j < s; ++j) EXPECT_EQ(genotype::edge_index(s, j), expected++);
}

TEST(Supernet, ReductionCellsSitAtOneAndTwoThirds) {
  auto reductions = [](int64_t L) {
    std::vector<int64_t> r;
    for (int64_t i = 0; i < L; ++i)
      if (supernet::is_reduction_cell(i, L)) r.push_back(i);
    return r;
  };
  EXPECT_EQ(reductions(8), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(reductions(12), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(reductions(16), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(reductions(20), (std::vector<int64_t>{6, 13}));
}

TEST(Supernet, PaperShapeHasTheReferenceParameterCount) {
  for (const char* set : {"darts8", "darts7"}) {
    supernet::Supernet net(config(set, 16, 8));
    EXPECT_EQ(supernet::count_parameters(*net), 1930618) << set;
  }
}

TEST(Supernet, FeatureShapesOnCifarInput) {
  auto cfg = config("darts8", 16, 8);
  supernet::Supernet net(cfg);
  torch::NoGradGuard no_grad;
  auto outs = net->cell_outputs(torch::randn({2, 3, 32, 32}), uniform_mix(cfg));
  ASSERT_EQ(outs.size(), 8u);
  EXPECT_EQ(outs[0].sizes(), (std::vector<int64_t>{2, 64, 32, 32}));
  EXPECT_EQ(outs[1].sizes(), (std::vector<int64_t>{2, 64, 32, 32}));
  EXPECT_EQ(outs[2].sizes(), (std::vector<int64_t>{2, 128, 16, 16}));
  EXPECT_EQ(outs[5].sizes(), (std::vector<int64_t>{2, 256, 8, 8}));
  EXPECT_EQ(net->forward(torch::randn({2, 3, 32, 32}), uniform_mix(cfg)).sizes(), (std::vector<int64_t>{2, 10}));
}

TEST(Supernet, GrayscaleInputAndSixSteps) {
  auto cfg = config("darts7", 4, 5, /*in_channels=*/1, /*steps=*/6);
  supernet::Supernet net(cfg);
  auto outs = net->cell_outputs(torch::randn({2, 1, 28, 28}), uniform_mix(cfg));
  EXPECT_EQ(outs.back().sizes(), (std::vector<int64_t>{2, 6 * 16, 7, 7}));
}

TEST(Supernet, StateDictNamesFollowTheReferenceHierarchy) {
  supernet::Supernet net(config("darts8", 4, 3));
  auto params = net->named_parameters();
  for (const char* key :
       {"stem.0.weight", "stem.1.weight", "cells.0.preprocess0.op.1.weight", "cells.2.preprocess0.conv_1.weight",
        "cells.0._ops.0._ops.4.op.1.weight", "cells.2._ops.13._ops.7.op.2.weight", "classifier.weight"})
    EXPECT_TRUE(params.contains(key)) << key;
}

TEST(Supernet, ArchitectureParametersAreNotNetworkWeights) {
  auto cfg = config("darts8", 4, 3);
  supernet::Supernet net(cfg);
  auto alpha = torch::zeros({14, 8}, torch::requires_grad());
  for (const auto& p : net->parameters()) EXPECT_FALSE(p.is_same(alpha));
  // changing the mix changes the output: alphas act only through the ArchMix
  torch::manual_seed(0);
  net->eval();
  auto x = torch::randn({2, 3, 8, 8});
  auto a = net->forward(x, uniform_mix(cfg));
  auto mix = uniform_mix(cfg);
  mix.normal.weights = torch::softmax(torch::randn({14, 8}), -1);
  EXPECT_FALSE(torch::allclose(a, net->forward(x, mix)));
}

// The NHWC supernet (the default) computes what the NCHW one computes: the same weights from the
// same seed, logits and every gradient equal up to float rounding, gradients in the weights'
// channels-last layout. Both op sets: darts8 runs dnas's NHWC kernels, nasp12 full convolutions.
// A one-channel batch (Fashion-MNIST) is contiguous in both layouts; the activations after the
// stem must still be channels-last, and the logits those of the NCHW network.
TEST(Supernet, OneChannelInputRunsChannelsLast) {
  auto cfg = config("darts8", 4, 3, /*in_channels=*/1, 2);
  std::vector<torch::Tensor> logits(2);
  for (int last = 0; last < 2; ++last) {
    cfg.channels_last = last == 1;
    torch::manual_seed(7);
    supernet::Supernet net(cfg);
    torch::manual_seed(8);
    const auto x = torch::randn({4, 1, 16, 16});
    const auto outputs = net->cell_outputs(x, uniform_mix(cfg));
    if (cfg.channels_last) {
      for (const auto& s : outputs) {
        EXPECT_TRUE(s.is_contiguous(torch::MemoryFormat::ChannelsLast));
        EXPECT_EQ(s.stride(1), 1);  // NHWC, not the NCHW strides a one-channel input led to
      }
    }
    logits[last] = net->forward(x, uniform_mix(cfg));
  }
  EXPECT_TRUE(torch::allclose(logits[0], logits[1], 1e-4, 1e-5));
}

TEST(Supernet, ChannelsLastMatchesNchw) {
  for (const std::string op_set : {"darts8", "nasp12"}) {
    SCOPED_TRACE(op_set);
    auto cfg = config(op_set, 4, 3, 3, 2);
    std::vector<std::vector<torch::Tensor>> grads(2);
    std::vector<torch::Tensor> logits(2);
    for (int last = 0; last < 2; ++last) {
      cfg.channels_last = last == 1;
      torch::manual_seed(7);
      supernet::Supernet net(cfg);
      const auto mix = uniform_mix(cfg);
      torch::manual_seed(8);
      const auto x = torch::randn({4, 3, 16, 16});
      logits[last] = net->forward(x, mix);
      logits[last].pow(2).sum().backward();
      for (const auto& p : net->parameters()) {
        if (p.dim() == 4 && cfg.channels_last) {
          EXPECT_TRUE(p.is_contiguous(torch::MemoryFormat::ChannelsLast));
          EXPECT_EQ(p.grad().strides(), p.strides());
        }
        grads[last].push_back(p.grad().contiguous());
      }
    }
    EXPECT_TRUE(torch::allclose(logits[0], logits[1], 1e-4, 1e-5));
    ASSERT_EQ(grads[0].size(), grads[1].size());
    for (size_t i = 0; i < grads[0].size(); ++i)
      EXPECT_TRUE(torch::allclose(grads[0][i], grads[1][i], 1e-3, 1e-5)) << "parameter " << i;
  }
}
