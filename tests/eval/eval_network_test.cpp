#include "dnas/eval/eval_network.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error_of.h"
#include "dnas/core/error.h"
#include "dnas/eval/aux_head.h"
#include "dnas/eval/drop_path.h"
#include "dnas/eval/network_cost.h"
#include "dnas/genotype/genotype.h"
#include "dnas/genotype/published.h"
#include "dnas/ops/op_factory.h"

namespace dnas::eval {
namespace {

EvalNetworkConfig cifar(int64_t c, int64_t layers, int64_t classes) {
  EvalNetworkConfig cfg;
  cfg.channels = c;
  cfg.layers = layers;
  cfg.classes = classes;
  return cfg;
}

struct ReferenceCount {
  const char* genotype;
  int64_t channels, layers, classes;
  const char* stem;
  int64_t with_aux, without_aux;
};

// Parameter counts of the reference DARTS model.py (NetworkCIFAR / NetworkImageNet with
// auxiliary=True), computed with PyTorch for these genotypes and settings.
const ReferenceCount kReference[] = {
    {"DARTS_V2", 36, 20, 10, "cifar", 3825768, 3349342},  {"DARTS_V2", 16, 8, 10, "cifar", 681572, 246106},
    {"DARTS_V2", 36, 20, 100, "cifar", 3946908, 3401272}, {"DARTS_V2", 48, 14, 1000, "imagenet", 5979528, 4718752},
    {"DARTS_V1", 36, 20, 10, "cifar", 3645840, 3169414},  {"DARTS_V1", 48, 14, 1000, "imagenet", 5771208, 4510432},
    {"NASNet", 36, 20, 10, "cifar", 4288944, 3830950},    {"NASNet", 16, 8, 10, "cifar", 761220, 333946},
    {"AmoebaNet", 36, 20, 10, "cifar", 3603072, 3145078}, {"AmoebaNet", 48, 14, 1000, "imagenet", 5863560, 4627360},
};

TEST(EvalNetwork, ParameterCountsMatchTheReference) {
  for (const auto& r : kReference) {
    auto cfg = cifar(r.channels, r.layers, r.classes);
    cfg.stem = r.stem;
    EvalNetwork net(genotype::published_genotype(r.genotype), cfg);
    EXPECT_EQ(net->parameter_count(false), r.without_aux) << r.genotype << " " << r.stem << " C=" << r.channels;
    EXPECT_EQ(net->parameter_count(true), r.with_aux) << r.genotype << " " << r.stem << " C=" << r.channels;
  }
}

TEST(NetworkCost, ChannelsForATargetParameterCount) {
  const auto g = genotype::published_genotype("DARTS_V2");
  auto cfg = cifar(36, 20, 10);
  // The reference count at C=36 (3,349,342 without aux) is hit exactly.
  EXPECT_EQ(channels_for_parameters(g, cfg, 3349342), 36);
  // Otherwise the nearest even C: no neighbour comes closer to the target.
  for (int64_t target : {500000, 3000000, 3500000}) {
    const int64_t c = channels_for_parameters(g, cfg, target);
    EXPECT_EQ(c % 2, 0);
    auto params = [&](int64_t ch) {
      auto k = cfg;
      k.channels = ch;
      return EvalNetwork(g, k)->parameter_count(false);
    };
    EXPECT_LE(std::abs(params(c) - target), std::abs(params(c + 2) - target)) << target;
    EXPECT_LE(std::abs(params(c) - target), std::abs(params(c - 2) - target)) << target;
  }
  cfg.stem = "imagenet";
  EXPECT_EQ(channels_for_parameters(g, cfg, 4718752) % 4, 0);  // imagenet stems need C % 4 == 0
}

TEST(NetworkCost, UnreachableParameterTargetNamesTheKey) {
  const auto g = genotype::published_genotype("DARTS_V2");
  // A raw count given where millions are meant (3.3e12 parameters): refused without building it.
  const auto msg = dnas::testing::error_of([&] { channels_for_parameters(g, cifar(36, 20, 10), 3349342000000); });
  EXPECT_NE(msg.find("model.target_params"), std::string::npos) << msg;
  EXPECT_NE(msg.find("millions"), std::string::npos) << msg;
}

TEST(EvalNetwork, SpecCountsForNaspAndAuxHead) {
  // docs/methods.md 1.9 and 7: DARTS_V2 aux head adds 476,426; NASP's 12-op cell has 7,363,486.
  EvalNetwork darts(genotype::published_genotype("DARTS_V2"), cifar(36, 20, 10));
  EXPECT_EQ(darts->parameter_count(true) - darts->parameter_count(false), 476426);
  EvalNetwork nasp(genotype::published_genotype("NASP_12"), cifar(36, 20, 10));
  EXPECT_EQ(nasp->parameter_count(false), 7363486);
}

TEST(EvalNetwork, StateDictNamesFollowTheReference) {
  EvalNetwork net(genotype::published_genotype("DARTS_V2"), cifar(8, 5, 10));
  auto params = net->named_parameters();
  for (const char* name :
       {"stem.0.weight", "stem.1.weight", "cells.0.preprocess0.op.1.weight", "cells.0._ops.0.op.1.weight",
        "cells.2.preprocess0.conv_1.weight", "auxiliary_head.features.2.weight", "auxiliary_head.features.5.weight",
        "auxiliary_head.classifier.weight", "classifier.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  auto buffers = net->named_buffers();
  EXPECT_TRUE(buffers.contains("auxiliary_head.features.6.running_mean"));
}

TEST(NetworkCost, OpMultiplyAddsByHand) {
  // sep_conv_3x3 at C=4 on 8x8, stride 2: two (dw 3x3 + pw) blocks at 4x4.
  EXPECT_EQ(ops::op_multiply_adds("sep_conv_3x3", 4, 2, 8, 8), 2 * (9 * 4 + 4 * 4) * 16);
  EXPECT_EQ(ops::op_multiply_adds("dil_conv_5x5", 4, 1, 8, 8), (25 * 4 + 4 * 4) * 64);
  EXPECT_EQ(ops::op_multiply_adds("skip_connect", 4, 2, 7, 7), 4 * 4 * 16);  // FactorizedReduce, 4x4 out
  EXPECT_EQ(ops::op_multiply_adds("skip_connect", 4, 1, 8, 8), 0);
  EXPECT_EQ(ops::op_multiply_adds("max_pool_3x3", 4, 2, 8, 8), 0);
  EXPECT_EQ(ops::op_multiply_adds("conv_7x1_1x7", 4, 2, 8, 8), 7 * 16 * 8 * 4 + 7 * 16 * 4 * 4);
}

TEST(EvalNetwork, ShapesAndAuxOnlyInTraining) {
  torch::manual_seed(0);
  auto cfg = cifar(8, 5, 10);
  EvalNetwork net(genotype::published_genotype("DARTS_V2"), cfg);
  auto x = torch::randn({2, 3, 32, 32});
  auto out = net->forward(x);
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 10}));
  ASSERT_TRUE(out.aux_logits.defined());
  EXPECT_EQ(out.aux_logits.sizes(), (std::vector<int64_t>{2, 10}));
  net->eval();
  EXPECT_FALSE(net->forward(x).aux_logits.defined());

  // Fashion-MNIST shape: 1x28x28 (aux head pools its 7x7 input adaptively).
  cfg.in_channels = 1;
  EvalNetwork small(genotype::published_genotype("DARTS_V2"), cfg);
  auto o = small->forward(torch::randn({3, 1, 28, 28}));
  EXPECT_EQ(o.logits.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(o.aux_logits.sizes(), (std::vector<int64_t>{3, 10}));
}

TEST(EvalNetwork, VariableInDegreeCells) {
  // Nested form: node 2 has three inputs, node 3 one, node 4 none (and is not in concat).
  auto g = genotype::parse_genotype(
      "Genotype(normal=[[('sep_conv_3x3', 0), ('skip_connect', 1), ('max_pool_3x3', 0)], "
      "[('dil_conv_3x3', 2)], []], normal_concat=[2, 3], "
      "reduce=[[('max_pool_3x3', 0)], [('skip_connect', 2), ('sep_conv_5x5', 1)], []], reduce_concat=[3])");
  auto cfg = cifar(4, 3, 10);
  cfg.auxiliary = false;
  EvalNetwork net(g, cfg);
  auto out = net->forward(torch::randn({2, 3, 16, 16}));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 10}));
  // A node without inputs that is read is an error naming the node.
  auto bad = genotype::parse_genotype(
      "Genotype(normal=[[('sep_conv_3x3', 0)], []], normal_concat=[2, 3], "
      "reduce=[[('max_pool_3x3', 0)], [('skip_connect', 2)]], reduce_concat=[3])");
  EXPECT_THROW(EvalNetwork(bad, cfg), Error);
}

TEST(DropPath, ZeroRateIsIdentityAndMasksWholeSamples) {
  auto x = torch::ones({2000, 3, 2, 2});
  EXPECT_TRUE(torch::equal(drop_path(x, 0.0), x));
  torch::manual_seed(1);
  auto y = drop_path(x, 0.25);
  // Each sample is either all 0 or all 1/0.75.
  auto per_sample = y.flatten(1);
  auto mx = std::get<0>(per_sample.max(1)), mn = std::get<0>(per_sample.min(1));
  EXPECT_TRUE(torch::equal(mx, mn));
  auto kept = (mx > 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.75, 5 * std::sqrt(0.75 * 0.25 / 2000));
  EXPECT_NEAR(mx.max().item<float>(), 1.0f / 0.75f, 1e-6);
  EXPECT_DOUBLE_EQ(drop_path_rate(0.2, 0, 600), 0.0);
  EXPECT_DOUBLE_EQ(drop_path_rate(0.2, 300, 600), 0.1);
}

TEST(DropPath, AppliesInTrainingOnly) {
  torch::manual_seed(2);
  auto cfg = cifar(4, 3, 10);
  cfg.auxiliary = false;
  EvalNetwork net(genotype::published_genotype("DARTS_V2"), cfg);
  auto x = torch::randn({4, 3, 8, 8});
  net->eval();
  auto a = net->forward(x).logits;
  net->set_drop_path_prob(0.5);
  EXPECT_TRUE(torch::allclose(net->forward(x).logits, a));  // eval: no drop-path
  net->train();
  torch::manual_seed(3);
  auto t1 = net->forward(x).logits;
  torch::manual_seed(3);
  net->set_drop_path_prob(0.0);
  auto t0 = net->forward(x).logits;
  EXPECT_FALSE(torch::allclose(t1, t0));
}

TEST(NetworkCost, MultiplyAddsMatchThePaper) {
  // DARTS (2nd order) on ImageNet mobile: 4.7M parameters and 574M multiply-adds (DARTS
  // paper Table 3). We count convolutions and the classifier only (530M); the paper does not
  // say which layers it counts (BN and pooling would add the rest), so only the scale is checked.
  auto cfg = cifar(48, 14, 1000);
  cfg.stem = "imagenet";
  auto cost = network_cost(genotype::published_genotype("DARTS_V2"), cfg, 224, 224);
  EXPECT_EQ(cost.parameters, 4718752);
  EXPECT_NEAR(static_cast<double>(cost.multiply_adds) / 1e6, 574.0, 0.1 * 574.0);
}

TEST(NetworkCost, HandCountOfATinyNetwork) {
  // 3 cells on 1x4x4 with skip/pool-only cells, so only the stem, the preprocessing convs
  // (one of them a FactorizedReduce) and the classifier count.
  auto g = genotype::parse_genotype(
      "Genotype(normal=[('skip_connect', 0), ('max_pool_3x3', 1)], normal_concat=[2], "
      "reduce=[('max_pool_3x3', 0), ('avg_pool_3x3', 1)], reduce_concat=[2])");
  EvalNetworkConfig cfg;
  cfg.in_channels = 1;
  cfg.channels = 2;
  cfg.layers = 3;  // cells: 0 normal (C=2), 1 reduce (C=4), 2 reduce (C=8)
  cfg.classes = 3;
  cfg.auxiliary = false;
  auto cost = network_cost(g, cfg, 4, 4);
  const int64_t stem = 9 * 1 * 6 * 16;            // 1 -> 6 channels at 4x4
  const int64_t cell0 = 6 * 2 * 16 + 6 * 2 * 16;  // two 1x1 6->2 at 4x4
  const int64_t cell1 = 6 * 4 * 16 + 2 * 4 * 16;  // 1x1 6->4, 1x1 2->4 at 4x4
  const int64_t cell2 = 2 * 8 * 4 + 4 * 8 * 4;    // FactorizedReduce 2->8 and 1x1 4->8, both at 2x2
  const int64_t classifier = 8 * 3;
  EXPECT_EQ(cost.multiply_adds, stem + cell0 + cell1 + cell2 + classifier);
}

}  // namespace
}  // namespace dnas::eval

namespace dnas::eval {
namespace {

TEST(EvalNetwork, ChannelsLastGivesTheSameWeightsOutputsAndGradients) {
  // A genotype with every kind of op the NHWC kernels take: sep/dil convs of both sizes, both
  // pools, skips and the reduction cells' FactorizedReduce.
  const auto g = genotype::parse_genotype(
      "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 0), ('avg_pool_3x3', 1), "
      "('skip_connect', 0), ('dil_conv_5x5', 2), ('max_pool_3x3', 1), ('sep_conv_3x3', 3)], normal_concat=[2, 3, 4, "
      "5], "
      "reduce=[('max_pool_3x3', 0), ('avg_pool_3x3', 1), ('skip_connect', 2), ('sep_conv_5x5', 0), "
      "('dil_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 4), ('dil_conv_5x5', 2)], reduce_concat=[2, 3, 4, "
      "5])");
  auto cfg = cifar(8, 5, 10);
  std::vector<EvalNetwork> nets;
  std::vector<EvalOutput> outs;
  torch::manual_seed(5);
  const auto x = torch::randn({4, 3, 16, 16});
  const auto y = torch::tensor({1, 7, 3, 0});
  for (bool last : {false, true}) {
    cfg.channels_last = last;
    torch::manual_seed(11);
    nets.emplace_back(g, cfg);
    nets.back()->train();
    outs.push_back(nets.back()->forward(x));
    (torch::cross_entropy_loss(outs.back().logits, y) + 0.4 * torch::cross_entropy_loss(outs.back().aux_logits, y))
        .backward();
  }
  EXPECT_TRUE(torch::allclose(outs[0].logits, outs[1].logits, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(outs[0].aux_logits, outs[1].aux_logits, 1e-4, 1e-5));
  const auto a = nets[0]->named_parameters(), b = nets[1]->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].key(), b[i].key());
    EXPECT_TRUE(torch::equal(a[i].value(), b[i].value())) << a[i].key();  // the same initial weights
    EXPECT_TRUE(torch::allclose(a[i].value().grad(), b[i].value().grad(), 1e-3, 1e-5)) << a[i].key();
  }
}

}  // namespace
}  // namespace dnas::eval

// At 224 input the ImageNet aux head sees 7x7 maps and, as the reference, pools 5x5 windows at
// stride 2 ([0, 5) and [2, 7)), not adaptive 2x2 windows ([0, 4) and [3, 7)).
TEST(EvalNetwork, ImagenetAuxHeadPoolsReferenceWindowsOn7x7) {
  torch::manual_seed(3);
  dnas::eval::AuxHead head(6, 10, /*imagenet=*/true);
  head->eval();
  auto x = torch::randn({2, 6, 7, 7});
  // The hand-made pool: mean of the ReLU over rows/cols [0,5) and [2,7).
  auto r = x.relu();
  auto pooled = torch::empty({2, 6, 2, 2});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      pooled.select(2, i).select(2, j).copy_(r.narrow(2, 2 * i, 5).narrow(3, 2 * j, 5).mean({2, 3}));
  // Run the rest of the head on the hand-made pool: the weights are the head's own.
  auto params = head->named_parameters();
  auto mid = torch::conv2d(pooled, params["features.2.weight"]);
  mid = torch::batch_norm(mid, params["features.3.weight"], params["features.3.bias"],
                          head->named_buffers()["features.3.running_mean"],
                          head->named_buffers()["features.3.running_var"], false, 0.1, 1e-5, false)
            .relu();
  auto expected = torch::linear(torch::conv2d(mid, params["features.5.weight"]).relu().flatten(1),
                                params["classifier.weight"], params["classifier.bias"]);
  EXPECT_TRUE(torch::allclose(head->forward(x), expected, 1e-5, 1e-5));
}
