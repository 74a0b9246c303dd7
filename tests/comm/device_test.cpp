// run.device: parsing and errors everywhere (the GPU runs are in gpu_test.cpp).
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "common/error_of.h"
#include "dnas/comm/device.h"
#include "dnas/search/search_config.h"
#include "dnas/train/train_config.h"

using namespace dnas;
using dnas::testing::error_of;

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
