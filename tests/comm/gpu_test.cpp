// On a machine with a GPU and a CUDA libtorch (ctest label gpu; scripts/gpu_check.sh): every
// search method and the retrain on the GPU against the same run on the CPU, a resumed GPU run,
// and the NCCL backend with every dtype dnas sends. Elsewhere every test skips.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cmath>

#include "common/tiny_search.h"
#include "data/test_files.h"
#include "dnas/comm/device.h"
#include "dnas/comm/process_group.h"
#include "dnas/core/signals.h"
#include "dnas/genotype/genotype.h"
#include "dnas/search/search_config.h"
#include "dnas/search/search_loop.h"
#include "dnas/train/train_config.h"
#include "dnas/train/trainer.h"

using namespace dnas;

namespace {

search::SearchConfig tiny_search(const std::string& root, const std::string& out, const std::string& method,
                                 const std::string& device) {
  auto c = dnas::testing::tiny_search_config(out, method);
  c.data.root = root;
  c.random.candidates = 3;
  c.run.device = device;
  return c;
}

train::TrainConfig tiny_train(const std::string& root, const std::string& out, const std::string& device) {
  train::TrainConfig c;
  c.data.root = root;
  c.data.batch_size = 16;
  c.data.cutout = 6;
  c.model.channels = 4;
  c.model.layers = 3;
  c.model.drop_path = 0.0;  // drop-path masks come from the device's generator
  c.optim.epochs = 2;
  c.optim.steps_per_epoch = 3;
  c.run.threads = 1;
  c.run.progress = false;
  c.run.out_dir = out;
  c.run.device = device;
  return c;
}

// Relative closeness for float32 work that runs through different kernels (cuDNN, TF32).
void expect_close(double cpu, double gpu, const std::string& what) {
  EXPECT_NEAR(gpu, cpu, 2e-2 * std::max(1.0, std::abs(cpu))) << what;
}

}  // namespace

// The continuous methods see the same batches and initial weights on both devices, so the GPU
// run must track the CPU run. The sampling methods draw from the GPU's generator, and NASP's
// argmax over near-tied alphas flips under rounding differences: those are checked for sane,
// finite results and a valid genotype.
TEST(Cuda, EverySearchMethodRunsOnTheGpuAndMatchesTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a GPU and a CUDA libtorch";
  data::test_files::TempDir data, out;
  data::test_files::write_mnist_like(data.path(), 160, 40);
  for (const char* method : {"darts_1st", "darts_2nd", "milenas", "darts_sc", "milenas_sc"}) {
    auto cpu = search::run_search(tiny_search(data.path(), out.file(std::string(method) + "_cpu"), method, "cpu"));
    auto gpu = search::run_search(tiny_search(data.path(), out.file(std::string(method) + "_gpu"), method, "cuda"));
    ASSERT_EQ(gpu.epochs.size(), 2u) << method;
    for (size_t e = 0; e < 2; ++e) {
      expect_close(cpu.epochs[e].train_loss, gpu.epochs[e].train_loss, std::string(method) + " train loss");
      expect_close(cpu.epochs[e].val_loss, gpu.epochs[e].val_loss, std::string(method) + " val loss");
    }
  }
  for (const char* method : {"nasp", "gdas", "itnas", "eoinas", "random", "random_ws"}) {
    auto gpu = search::run_search(tiny_search(data.path(), out.file(std::string(method) + "_gpu"), method, "cuda"));
    for (const auto& e : gpu.epochs) {
      EXPECT_TRUE(std::isfinite(e.train_loss) && e.train_loss > 0 && e.train_loss < 10) << method;
      EXPECT_TRUE(e.val_acc >= 0 && e.val_acc <= 1) << method;
    }
    EXPECT_EQ(genotype::parse_genotype(genotype::to_string(gpu.genotype)), gpu.genotype) << method;
  }
}

TEST(Cuda, RetrainOnTheGpuMatchesTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a GPU and a CUDA libtorch";
  data::test_files::TempDir data, out;
  data::test_files::write_mnist_like(data.path(), 96, 40);
  auto cpu = train::run_training(tiny_train(data.path(), out.file("cpu"), "cpu"));
  auto gpu = train::run_training(tiny_train(data.path(), out.file("gpu"), "cuda"));
  ASSERT_EQ(gpu.epochs.size(), 2u);
  for (size_t e = 0; e < 2; ++e) expect_close(cpu.epochs[e].train_loss, gpu.epochs[e].train_loss, "train loss");
  expect_close(cpu.test_loss, gpu.test_loss, "test loss");
}

// A GPU search stopped mid-epoch and resumed continues the same Gumbel noise (the checkpoint
// holds the GPU generator's state): its genotype and losses follow the uninterrupted run.
TEST(Cuda, AResumedGpuSearchContinuesTheSameNoise) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a GPU and a CUDA libtorch";
  data::test_files::TempDir data, out;
  data::test_files::write_mnist_like(data.path(), 160, 40);
  auto full = search::run_search(tiny_search(data.path(), out.file("full"), "gdas", "cuda"));
  auto cut = tiny_search(data.path(), out.file("cut"), "gdas", "cuda");
  cut.run.stop_after_steps = 4;
  EXPECT_THROW(search::run_search(cut), core::Interrupted);
  cut.run.stop_after_steps = 0;
  cut.run.resume = true;
  auto resumed = search::run_search(cut);
  EXPECT_EQ(genotype::to_string(resumed.genotype), genotype::to_string(full.genotype));
  for (size_t e = 0; e < full.epochs.size(); ++e)
    expect_close(full.epochs[e].train_loss, resumed.epochs[e].train_loss, "resumed train loss");
}

// NCCL takes every dtype dnas sends (float gradients and parameters, int64 batch-norm counters,
// masks); on one rank a broadcast and an average leave the values unchanged.
TEST(Cuda, NcclCollectivesOfEveryDtype) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a GPU and a CUDA libtorch";
  if (comm::available_backends() != "mpi+nccl") GTEST_SKIP() << "this build has no NCCL backend";
  auto group = comm::mpi_group_of_world();
  const auto device = comm::select_device("cuda", "run.device");
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kFloat16, torch::kBFloat16, torch::kInt64, torch::kInt32,
                     torch::kInt8, torch::kUInt8, torch::kBool}) {
    auto t = torch::arange(12).remainder(2 + 5).to(device, dtype);
    auto before = t.clone();
    group->broadcast({t}, 0);
    EXPECT_TRUE(torch::equal(t, before)) << c10::toString(dtype);
    if (t.is_floating_point()) {
      group->average({t});
      EXPECT_TRUE(torch::equal(t, before)) << c10::toString(dtype);
    }
  }
}
