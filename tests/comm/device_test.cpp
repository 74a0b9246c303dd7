// run.device: parsing and errors everywhere; on a machine with a GPU and a CUDA libtorch, every
// search method and the retrain on the GPU, compared with the same run on the CPU.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cmath>

#include "common/error_of.h"
#include "common/tiny_search.h"
#include "data/test_files.h"
#include "dnas/comm/device.h"
#include "dnas/genotype/genotype.h"
#include "dnas/search/search_config.h"
#include "dnas/search/search_loop.h"
#include "dnas/train/train_config.h"
#include "dnas/train/trainer.h"

using namespace dnas;
using dnas::testing::error_of;

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

TEST(Device, SpecsAreCpuCudaOrCudaIndex) {
  for (const char* ok : {"cpu", "cuda", "cuda:0", "cuda:7", "cuda:15"}) EXPECT_TRUE(comm::is_device_spec(ok)) << ok;
  for (const char* bad : {"", "gpu", "CUDA", "cuda:", "cuda:x", "cuda:1a", "cuda0", "cpu:0", "cuda:-1"})
    EXPECT_FALSE(comm::is_device_spec(bad)) << bad;
  EXPECT_EQ(comm::select_device("cpu", "run.device"), torch::Device(torch::kCPU));
  const auto bad = error_of([] { comm::select_device("gpu", "run.device"); });
  EXPECT_NE(bad.find("run.device"), std::string::npos) << bad;
  EXPECT_NE(bad.find("cuda:N"), std::string::npos) << bad;
}

TEST(Device, CudaIsAClearErrorWithoutAGpuAndTheRanksGpuWithOne) {
  if (torch::cuda::is_available()) {
    const auto d = comm::select_device("cuda", "run.device");
    EXPECT_TRUE(d.is_cuda());
    EXPECT_LT(d.index(), static_cast<int>(torch::cuda::device_count()));
    const auto far = error_of([] { comm::select_device("cuda:99", "run.device"); });
    EXPECT_NE(far.find("GPU(s) are visible"), std::string::npos) << far;
    return;
  }
  const auto e = error_of([] { comm::select_device("cuda", "run.device"); });
  EXPECT_NE(e.find("run.device"), std::string::npos) << e;
  EXPECT_NE(e.find("Torch_DIR"), std::string::npos) << e;
}

TEST(Device, ConfigsRejectAMalformedDeviceNamingTheKey) {
  search::SearchConfig s;
  s.run.device = "gpu0";
  EXPECT_NE(error_of([&] { search::validate(s); }).find("run.device"), std::string::npos);
  train::TrainConfig t;
  t.run.device = "cuda:";
  EXPECT_NE(error_of([&] { train::validate(t); }).find("run.device"), std::string::npos);
}

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
