#pragma once
// Where a run's tensors live. `run.device` is cpu, cuda (the GPU of this rank: local rank
// modulo the GPUs visible on the node, as one rank per GPU is launched) or cuda:N.
#include <torch/types.h>

#include <string>

namespace dnas::comm {

// Resolves `spec` for this process; throws naming `key` when it is malformed, when libtorch
// was built without CUDA or no GPU is visible, or when N is out of range.
torch::Device select_device(const std::string& spec, const std::string& key);

// Checks `spec` without touching any GPU (config validation): cpu, cuda or cuda:N.
bool is_device_spec(const std::string& spec);

}  // namespace dnas::comm
