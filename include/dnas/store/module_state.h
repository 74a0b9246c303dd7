#pragma once
// What a checkpoint needs from torch objects: a module's parameters and buffers under their
// state_dict names, SGD momentum buffers by parameter name, and the default generator's state.
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dnas::store {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The key under which torch's optimizers keep a parameter's state: the TensorImpl address as
// text in libtorch 1.x, the address itself in 2.x.
template <class StateMap>
typename StateMap::key_type optimizer_state_key(const StateMap&, const torch::Tensor& param) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << param.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

// Parameters then buffers, e.g. "cells.0._ops.1.op.1.weight", "stem.1.running_mean" (copies).
NamedTensors module_state(const torch::nn::Module& module);
// Copies every entry back; throws naming `source` and the entry on a missing name, an extra
// name or a shape mismatch (a checkpoint of another network).
void load_module_state(torch::nn::Module& module, const NamedTensors& state, const std::string& source);

// Momentum buffers of `sgd` (whose parameters are module.parameters()) by parameter name;
// parameters without a buffer yet are left out.
NamedTensors sgd_momentum_state(const torch::nn::Module& module, torch::optim::SGD& sgd);
void load_sgd_momentum_state(const torch::nn::Module& module, torch::optim::SGD& sgd, const NamedTensors& state,
                             const std::string& source);

// Which parameters have a gradient tensor ([P] uint8 in parameters() order). Optimizers skip
// parameters without one (e.g. ops a sampling method never ran), so a resume must restore it.
torch::Tensor defined_gradients(const torch::nn::Module& module);
// Gives a zero gradient to the flagged parameters and none to the others.
void restore_defined_gradients(torch::nn::Module& module, const torch::Tensor& flags, const std::string& source);

// State of torch's default CPU generator ([n] uint8) and its restoration.
torch::Tensor cpu_generator_state();
void restore_cpu_generator_state(const torch::Tensor& state);
// On a CUDA device, its default generator's state as "rng/cuda" (dropout, drop-path and Gumbel
// noise drawn on the GPU), so that a resumed GPU run continues the same noise; nothing on the CPU.
void append_device_generator_state(NamedTensors& out, const torch::Device& device);
void restore_device_generator_state(const NamedTensors& all, const torch::Device& device, const std::string& source);

// Entries of `all` whose name starts with "<prefix>/", prefix stripped.
NamedTensors with_prefix(const NamedTensors& all, const std::string& prefix);
void append_prefixed(NamedTensors& out, const std::string& prefix, const NamedTensors& entries);

}  // namespace dnas::store
