// A search and a retrain run data-parallel over the ranks of `mpirun -np 2`: every rank ends
// with the same architecture, the leader alone writes, runs are deterministic, and an
// interrupted group run resumes to the uninterrupted result.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>

#include "common/error_of.h"
#include "common/tiny_search.h"
#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"
#include "dnas/core/signals.h"
#include "dnas/genotype/genotype.h"
#include "dnas/search/search_loop.h"
#include "dnas/train/trainer.h"

using namespace dnas;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<comm::ProcessGroup> whole_world() { return comm::split_world(comm::MpiWorld::get().size()); }

bool have_fashion_mnist() { return fs::exists("/usr/share/datasets/fashion-mnist"); }

// A directory every rank of the group names the same way (the leader's pid).
fs::path shared_dir(comm::ProcessGroup& group, const std::string& name) {
  auto pid = torch::tensor({static_cast<int64_t>(getpid())}, torch::kInt64);
  group.broadcast({pid}, 0);
  return fs::temp_directory_path() / ("dnas_dp_" + name + "_" + std::to_string(pid.item<int64_t>()));
}

search::SearchConfig tiny(const fs::path& out_dir, const std::string& method) {
  auto c = dnas::testing::tiny_search_config(out_dir.string(), method);
  c.data.limit = 192;
  return c;
}

// The architecture tensors of the last epoch, as one flat tensor.
torch::Tensor final_arch(const search::SearchResult& r) {
  std::vector<torch::Tensor> flat;
  for (const auto& [name, t] : r.arch_history.back()) flat.push_back(t.reshape(-1));
  return torch::cat(flat);
}

}  // namespace

TEST(DataParallelSearch, EveryRankEndsWithTheSameArchitectureAndRunsRepeat) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto group = whole_world();
  ASSERT_GE(group->size(), 2) << "run this binary under mpirun -np 2";
  const auto dir = shared_dir(*group, "search");
  for (const char* method : {"darts_1st", "darts_2nd", "gdas"}) {
    auto a = search::run_search(tiny(dir / method / "a", method), group);
    auto b = search::run_search(tiny(dir / method / "b", method), group);
    EXPECT_EQ(genotype::to_string(a.genotype), genotype::to_string(b.genotype)) << method;
    EXPECT_TRUE(torch::equal(final_arch(a), final_arch(b))) << method;
    EXPECT_EQ(a.epochs.back().train_loss, b.epochs.back().train_loss) << method;
    // Ranks agree bit for bit (run_search also asserts this after every epoch).
    EXPECT_NO_THROW(comm::check_identical(*group, {final_arch(a)}, "final alphas")) << method;
    if (group->leader()) {
      EXPECT_TRUE(fs::exists(dir / method / "a" / "results.h5"));
      EXPECT_TRUE(fs::exists(dir / method / "a" / "checkpoint.h5"));
    }
  }
  group->barrier();
  if (group->leader()) fs::remove_all(dir);
}

TEST(DataParallelSearch, AnInterruptedGroupRunResumesToTheUninterruptedResult) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto group = whole_world();
  const auto dir = shared_dir(*group, "resume");
  auto whole = search::run_search(tiny(dir / "whole", "darts_1st"), group);
  auto cut = tiny(dir / "cut", "darts_1st");
  cut.run.stop_after_steps = 4;  // mid-way through epoch 2
  EXPECT_THROW(search::run_search(cut, group), core::Interrupted);
  group->barrier();  // the leader's checkpoint is on disk before anyone reads it
  cut.run.stop_after_steps = 0;
  cut.run.resume = true;
  auto resumed = search::run_search(cut, group);
  EXPECT_EQ(genotype::to_string(resumed.genotype), genotype::to_string(whole.genotype));
  EXPECT_TRUE(torch::equal(final_arch(resumed), final_arch(whole)));
  EXPECT_EQ(resumed.epochs.back().val_acc, whole.epochs.back().val_acc);
  group->barrier();
  if (group->leader()) fs::remove_all(dir);
}

TEST(DataParallelSearch, BatchMustSplitEvenlyOverTheGroup) {
  auto group = whole_world();
  auto c = tiny(fs::temp_directory_path() / "dnas_dp_uneven", "darts_1st");
  c.data.batch_size = 2 * group->size() + 1;
  const auto message = dnas::testing::error_of([&] { search::run_search(c, group); });
  EXPECT_NE(message.find("data.batch_size"), std::string::npos) << message;
}

TEST(DataParallelTrain, RetrainRanksAgreeAndRunsRepeat) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto group = whole_world();
  const auto dir = shared_dir(*group, "train");
  train::TrainConfig c;
  c.model.genotype = "DARTS_V2";
  c.model.channels = 4;
  c.model.layers = 3;
  c.model.auxiliary = true;
  c.model.drop_path = 0.2;
  c.data.limit = 96;
  c.data.test_limit = 50;  // not a multiple of the batch: the last batch is split unevenly
  c.data.batch_size = 16;
  c.optim.epochs = 2;
  c.run.threads = 1;
  c.run.progress = false;
  c.run.out_dir = (dir / "a").string();
  auto a = train::run_training(c, group);
  c.run.out_dir = (dir / "b").string();
  auto b = train::run_training(c, group);
  EXPECT_EQ(a.test_acc, b.test_acc);
  EXPECT_EQ(a.epochs.back().train_loss, b.epochs.back().train_loss);
  auto acc = torch::tensor({a.test_acc}, torch::kFloat64);
  EXPECT_NO_THROW(comm::check_identical(*group, {acc}, "test accuracy"));
  group->barrier();
  if (group->leader()) fs::remove_all(dir);
}
