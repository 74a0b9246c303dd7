#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/ops/op_names.h"
#include "dnas/search/milenas.h"

using namespace dnas;

namespace {

struct Fixture {
  supernet::SupernetConfig cfg;
  supernet::Supernet net{nullptr};
  std::unique_ptr<search::WeightTrainer> weights;
  search::TensorBatch a, b;
  Fixture() {
    torch::manual_seed(4);
    cfg.channels = 4;
    cfg.layers = 3;
    cfg.steps = 2;
    cfg.normal_ops = ops::op_set("darts7", ops::CellType::Normal);
    cfg.reduce_ops = cfg.normal_ops;
    net = supernet::Supernet(cfg);
    net->eval();  // fixed BN statistics so repeated forwards agree exactly
    weights = std::make_unique<search::WeightTrainer>(net, search::WeightOptions{});
    a = {torch::randn({4, 3, 8, 8}), torch::randint(0, 10, {4}, torch::kLong)};
    b = {torch::randn({4, 3, 8, 8}), torch::randint(0, 10, {4}, torch::kLong)};
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
