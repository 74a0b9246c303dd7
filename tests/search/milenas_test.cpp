#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/search/milenas.h"
#include "search/search_fixtures.h"

using namespace dnas;

namespace {

struct Fixture {
  supernet::SupernetConfig cfg;
  supernet::Supernet net{nullptr};
  std::unique_ptr<search::WeightTrainer> weights;
  search::TensorBatch a, b;
  Fixture() {
    torch::manual_seed(4);
    cfg = dnas::testing::tiny_supernet_config("darts7");
    net = supernet::Supernet(cfg);
    net->eval();  // fixed BN statistics so repeated forwards agree exactly
    weights = std::make_unique<search::WeightTrainer>(net, search::WeightOptions{});
    a = dnas::testing::random_batch(4);
    b = dnas::testing::random_batch(4);
  }
};

}  // namespace

TEST(Milenas, SameBatchAndLambdaOneDoubleTheGradient) {
  Fixture f;
  search::MilenasStrategy m(f.cfg, search::OptimConfig{}, 1.0);
  search::DartsStrategy single(1, f.cfg, search::OptimConfig{});
  single.arch().alpha_normal = m.arch().alpha_normal;  // same alphas
  single.arch().alpha_reduce = m.arch().alpha_reduce;
  auto g = m.mixed_level_gradient(*f.weights, f.a, f.a);
  auto ref = single.first_order_gradient(*f.weights, f.a);
  EXPECT_TRUE(torch::allclose(g[0], 2 * ref[0], 1e-5, 1e-9));
  EXPECT_TRUE(torch::allclose(g[1], 2 * ref[1], 1e-5, 1e-9));
}

TEST(Milenas, LambdaZeroIsTheTrainingLossGradient) {
  Fixture f;
  search::MilenasStrategy m(f.cfg, search::OptimConfig{}, 0.0);
  search::DartsStrategy single(1, f.cfg, search::OptimConfig{});
  single.arch().alpha_normal = m.arch().alpha_normal;
  single.arch().alpha_reduce = m.arch().alpha_reduce;
  auto g = m.mixed_level_gradient(*f.weights, f.a, f.b);
  auto ref = single.first_order_gradient(*f.weights, f.a);
  EXPECT_TRUE(torch::allclose(g[0], ref[0], 1e-6, 1e-10));
  auto val = single.first_order_gradient(*f.weights, f.b);
  EXPECT_FALSE(torch::allclose(g[0], val[0], 1e-3, 1e-6));
}
