#include "dnas/search/random_search.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/genotype.h"
#include "search/search_fixtures.h"

namespace dnas::search {
namespace {

const std::vector<std::string> kOps = {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3"};

TEST(RandomArchitecture, TwoDistinctInputsPerNodeWithRealOps) {
  auto gen = at::detail::createCPUGenerator(5);
  std::map<int64_t, int> op_count;
  for (int trial = 0; trial < 50; ++trial) {
    const auto a = random_architecture(4, kOps, gen);
    ASSERT_EQ(a.sizes(), (torch::IntArrayRef{14, 5}));
    EXPECT_EQ(a.select(1, 0).sum().item<float>(), 0) << "none is never drawn";
    for (int s = 2; s < 6; ++s) {
      int inputs = 0;
      for (int j = 0; j < s; ++j) {
        const auto row = a[genotype::edge_index(s, j)];
        EXPECT_LE(row.sum().item<float>(), 1);  // at most one op per edge: distinct predecessors
        inputs += static_cast<int>(row.sum().item<float>());
        if (row.sum().item<float>() == 1) ++op_count[row.argmax().item<int64_t>()];
      }
      EXPECT_EQ(inputs, 2);
    }
  }
  EXPECT_EQ(op_count.size(), 4u) << "every non-none op is drawn";
  auto g1 = at::detail::createCPUGenerator(5), g2 = at::detail::createCPUGenerator(5),
       g3 = at::detail::createCPUGenerator(6);
  EXPECT_TRUE(torch::equal(random_architecture(4, kOps, g1), random_architecture(4, kOps, g2)));
  EXPECT_FALSE(torch::equal(random_architecture(4, kOps, g1), random_architecture(4, kOps, g3)));
}

TEST(RandomArchitecture, GenotypeListsTheSelectedEdges) {
  auto a = torch::zeros({5, 5});  // 2 steps: edges (2,0) (2,1) (3,0) (3,1) (3,2)
  a[genotype::edge_index(2, 0)][3] = 1;
  a[genotype::edge_index(2, 1)][4] = 1;
  a[genotype::edge_index(3, 0)][1] = 1;
  a[genotype::edge_index(3, 2)][2] = 1;
  const auto g = architecture_genotype(a, kOps, 2);
  EXPECT_EQ(genotype::to_string({g, g}).substr(0, 103),
            "Genotype(normal=[('skip_connect', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('avg_pool_3x3', 2)], n");
}

TEST(RandomStrategy, SeededGenotypeWithoutTraining) {
  const auto cfg = dnas::testing::tiny_supernet_config("darts7");
  RandomStrategy a(cfg, 3), b(cfg, 3), c(cfg, 4);
  EXPECT_FALSE(a.needs().trains_supernet);
  EXPECT_EQ(genotype::to_string(a.derive()), genotype::to_string(b.derive()));
  EXPECT_NE(genotype::to_string(a.derive()), genotype::to_string(c.derive()));
}

TEST(RandomWs, StepRunsOnlyTheSampledOpsAndFinishPicksTheBestCandidate) {
  torch::manual_seed(0);
  const auto cfg = dnas::testing::tiny_supernet_config("darts7");  // 3 cells, 2 steps: 4 inputs per cell
  supernet::Supernet net(cfg);
  WeightTrainer weights(net, WeightOptions{});
  RandomConfig rc;
  rc.candidates = 6;
  RandomWsStrategy ws(cfg, 1, rc);
  EXPECT_TRUE(ws.needs().trains_supernet);
  const auto train = dnas::testing::random_batch(4), val = dnas::testing::random_batch(4);
  // The step's architectures are the next two draws of torch's generator: recompute them, and the
  // first SGD step of the weights under them, by hand.
  torch::manual_seed(9);
  const auto normal = random_architecture(2, cfg.normal_ops), reduce = random_architecture(2, cfg.reduce_ops);
  const auto params = net->parameters();
  const auto w0 = dnas::testing::snapshot(params);
  const auto loss = torch::cross_entropy_loss(net->forward(train.x, architecture_mix(normal, reduce)), train.y);
  const auto w1 = dnas::testing::first_sgd_step(w0, dnas::testing::grads_of(loss, params, /*zeros_for_unused=*/false),
                                                WeightOptions{});
  const int64_t before = net->evaluations();
  torch::manual_seed(9);
  const auto r = ws.step(weights, {train, val, {}}, {0, 1, 0.025});
  EXPECT_EQ(net->evaluations() - before, 4 * cfg.layers);  // one sampled op per selected edge
  EXPECT_EQ(r.train.count, 4);
  EXPECT_NEAR(r.train.loss(), loss.item<double>(), 1e-6);
  // The weights took that step (unsampled ops' weights have no gradient and stay put).
  EXPECT_LT(dnas::testing::max_relative_difference(params, w1), 1e-5);
  int64_t unused = 0;
  for (size_t i = 0; i < params.size(); ++i) unused += torch::equal(params[i].detach(), w0[i]) ? 1 : 0;
  EXPECT_GT(unused, 0);
  // The scorer sees every candidate once; the result is the one it scored lowest.
  std::vector<std::pair<double, std::string>> scored;
  ws.finish([&](const supernet::ArchMix& mix) {
    const auto g = genotype::to_string({architecture_genotype(mix.normal.weights, cfg.normal_ops, 2),
                                        architecture_genotype(mix.reduce.weights, cfg.reduce_ops, 2)});
    const double score = static_cast<double>(std::hash<std::string>{}(g) % 1000);
    scored.emplace_back(score, g);
    return score;
  });
  ASSERT_EQ(scored.size(), 6u);
  const auto best =
      std::min_element(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  EXPECT_EQ(genotype::to_string(ws.derive()), best->second);
}

}  // namespace
}  // namespace dnas::search
