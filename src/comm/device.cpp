#include "dnas/comm/device.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <cctype>

#include "dnas/comm/mpi_world.h"
#include "dnas/core/error.h"

namespace dnas::comm {
namespace {

// The N of "cuda:N", or -1 for plain "cuda".
int cuda_index(const std::string& spec) {
  if (spec == "cuda") return -1;
  const std::string digits = spec.substr(5);
  return std::stoi(digits);
}

}  // namespace

bool is_device_spec(const std::string& spec) {
  if (spec == "cpu" || spec == "cuda") return true;
  if (spec.rfind("cuda:", 0) != 0 || spec.size() == 5 || spec.size() > 8) return false;
  for (size_t i = 5; i < spec.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(spec[i]))) return false;
  return true;
}

torch::Device select_device(const std::string& spec, const std::string& key) {
  if (!is_device_spec(spec))
    fail(fmt::format("'{}' is not a device", spec), key, "use cpu, cuda (one GPU per rank) or cuda:N");
  if (spec == "cpu") return torch::kCPU;
  if (!torch::cuda::is_available())
    fail(fmt::format("{} = {} but this libtorch has no CUDA or no GPU is visible", key, spec), key,
         "build dnas with -DTorch_DIR=<a CUDA libtorch>/share/cmake/Torch, check CUDA_VISIBLE_DEVICES, "
         "or set run.device = cpu");
  const int count = static_cast<int>(torch::cuda::device_count());
  const auto& world = MpiWorld::get();  // node-local rank and size, found at start-up (no collective)
  if (cuda_index(spec) < 0 && world.local_size() > count) {
    static bool warned = false;
    if (!warned)
      spdlog::warn("{} ranks run on {} but only {} GPU(s) are visible: ranks share GPUs (local rank % GPUs)",
                   world.local_size(), world.host(), count);
    warned = true;
  }
  const int index = cuda_index(spec) >= 0 ? cuda_index(spec) : world.local_rank() % count;
  if (index >= count)
    fail(fmt::format("{} = {} but only {} GPU(s) are visible", key, spec, count), key,
         "use cuda (the local rank picks the GPU) or an index below the GPU count");
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(index)};
}

}  // namespace dnas::comm
