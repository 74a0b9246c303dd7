// Collectives of a data-parallel group. Run under `mpirun -np 2` (and 4): every rank runs the
// same tests; values are built from the rank so that the expected results are closed-form.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error_of.h"
#include "dnas/comm/device.h"
#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"

using namespace dnas;

namespace {

std::shared_ptr<comm::ProcessGroup> whole_world() { return comm::split_world(comm::MpiWorld::get().size()); }

}  // namespace

TEST(ProcessGroup, AverageIsTheMeanOverRanksBucketByBucket) {
  auto group = whole_world();
  const int n = group->size();
  ASSERT_GE(n, 2) << "run this binary under mpirun -np 2 or more";
  const double r = group->rank() + 1;  // ranks hold 1x, 2x, ... nx the base values: mean (n+1)/2 x
  std::vector<torch::Tensor> t = {
      torch::arange(10, torch::kFloat32) * r,           // 40 bytes
      torch::full({2, 5}, 3.0f, torch::kFloat32) * r,   // 40 bytes
      torch::Tensor(),                                  // undefined: skipped
      torch::linspace(-1, 1, 10, torch::kFloat32) * r,  // 40 bytes
      torch::ones({3}, torch::kFloat64) * r,            // 24 bytes, its own dtype bucket
  };
  group->set_bucket_bytes(100);  // floats: [t0 t1] [t3]; doubles: [t4]
  const int64_t before = group->collectives();
  group->average(t);
  EXPECT_EQ(group->collectives() - before, 3);
  const double mean = (n + 1) / 2.0;
  EXPECT_TRUE(torch::allclose(t[0], torch::arange(10, torch::kFloat32) * mean));
  EXPECT_TRUE(torch::allclose(t[1], torch::full({2, 5}, 3.0f) * mean));
  EXPECT_FALSE(t[2].defined());
  EXPECT_TRUE(torch::allclose(t[3], torch::linspace(-1, 1, 10) * mean));
  EXPECT_TRUE(torch::allclose(t[4], torch::ones({3}, torch::kFloat64) * mean));
  EXPECT_EQ(t[1].sizes(), (std::vector<int64_t>{2, 5}));  // shapes survive packing

  group->set_bucket_bytes(1 << 20);  // everything of one dtype in one bucket
  const int64_t before_big = group->collectives();
  group->average(t);
  EXPECT_EQ(group->collectives() - before_big, 2);
  EXPECT_TRUE(torch::allclose(t[0], torch::arange(10, torch::kFloat32) * mean));  // mean of equal values
}

TEST(ProcessGroup, BroadcastCopiesTheRootsValuesOfEveryDtype) {
  auto group = whole_world();
  const int root = group->size() - 1;
  std::vector<torch::Tensor> t = {torch::full({4}, static_cast<float>(group->rank())),
                                  torch::full({2}, static_cast<int64_t>(10 * group->rank()), torch::kInt64)};
  group->broadcast(t, root);
  EXPECT_TRUE(torch::equal(t[0], torch::full({4}, static_cast<float>(root))));
  EXPECT_TRUE(torch::equal(t[1], torch::full({2}, static_cast<int64_t>(10 * root), torch::kInt64)));
}

TEST(ProcessGroup, SumAndAnyAgreeOnEveryRank) {
  auto group = whole_world();
  const int n = group->size();
  auto s = group->sum({1.0, static_cast<double>(group->rank())});
  EXPECT_EQ(s[0], n);
  EXPECT_EQ(s[1], n * (n - 1) / 2.0);
  EXPECT_TRUE(group->any(group->rank() == n - 1));  // only the last rank raises the flag
  EXPECT_FALSE(group->any(false));
}

TEST(ProcessGroup, IdentityCheckPassesForEqualTensorsAndNamesTheDifference) {
  auto group = whole_world();
  auto same = torch::arange(6, torch::kFloat32);
  EXPECT_NO_THROW(comm::check_identical(*group, {same}, "alphas"));
  auto differs = same.clone();
  if (group->rank() == 1) differs[2] += 1e-6f;  // one ulp-sized disagreement on one rank
  const auto message = dnas::testing::error_of([&] { comm::check_identical(*group, {same, differs}, "alphas"); });
  EXPECT_NE(message.find("alphas differ between the ranks"), std::string::npos) << message;
  EXPECT_NE(message.find("1 of"), std::string::npos) << message;
}

TEST(ProcessGroup, ShardGradientsAveragedEqualTheGradientOfTheWholeBatch) {
  // A BN-free model: the loss is a mean over samples, so with equal shards the mean of the
  // shard gradients is the gradient on the concatenated batch.
  auto group = whole_world();
  const int n = group->size();
  torch::manual_seed(7);  // same weights and the same global batch on every rank
  torch::nn::Sequential model(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1)), torch::nn::ReLU(),
                              torch::nn::Flatten(), torch::nn::Linear(4 * 6 * 6, 5));
  const int64_t batch = 4 * n;
  auto x = torch::randn({batch, 3, 6, 6});
  auto y = torch::randint(0, 5, {batch}, torch::kLong);

  torch::nn::functional::cross_entropy(model->forward(x), y).backward();
  std::vector<torch::Tensor> whole;
  for (const auto& p : model->parameters()) whole.push_back(p.grad().clone());

  model->zero_grad();
  const int64_t lo = group->rank() * batch / n, hi = (group->rank() + 1) * batch / n;
  torch::nn::functional::cross_entropy(model->forward(x.slice(0, lo, hi)), y.slice(0, lo, hi)).backward();
  std::vector<torch::Tensor> shard;
  for (const auto& p : model->parameters()) shard.push_back(p.grad());
  EXPECT_FALSE(torch::allclose(shard[0], whole[0]));  // a shard alone is not the whole batch
  group->average(shard);
  for (size_t i = 0; i < whole.size(); ++i)
    EXPECT_TRUE(torch::allclose(shard[i], whole[i], 1e-5, 1e-6)) << "parameter " << i;
}

TEST(ProcessGroup, SplitWorldRejectsAWorldThatIsNotAMultiple) {
  const int n = comm::MpiWorld::get().size();
  const auto message = dnas::testing::error_of([&] { comm::split_world(n + 1); });
  EXPECT_NE(message.find("study.ranks_per_experiment"), std::string::npos) << message;
}

// The node-local rank is found once, when MPI starts: choosing a device later makes no
// collective, so ranks in different phases never meet in mismatched collectives (here only
// rank 0 asks, many times, while the others go straight to the barrier; a collective would hang).
TEST(ProcessGroup, LocalRankNeedsNoCollective) {
  auto& world = comm::MpiWorld::get();
  if (world.rank() == 0)
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(comm::local_rank(), 0);
      EXPECT_EQ(comm::select_device("cpu", "run.device"), torch::Device(torch::kCPU));
    }
  world.barrier();
  // Every rank of this test runs on one host, numbered as in the world.
  EXPECT_EQ(world.local_rank(), world.rank());
  EXPECT_EQ(world.local_size(), world.size());
}
