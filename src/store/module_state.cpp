#include "dnas/store/module_state.h"

#include <spdlog/spdlog.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <map>

#include "dnas/core/error.h"

namespace dnas::store {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "," : "") + std::to_string(t.size(d));
  return s + "]";
}

const std::string kHint = "the checkpoint belongs to another network or genotype; resume with the same config";

}  // namespace

NamedTensors module_state(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value().detach().clone());
  return out;
}

void load_module_state(torch::nn::Module& module, const NamedTensors& state, const std::string& source) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  torch::NoGradGuard no_grad;
  size_t used = 0;
  auto load = [&](const std::string& name, torch::Tensor& dst) {
    auto it = by_name.find(name);
    if (it == by_name.end()) fail("checkpoint has no weights for '" + name + "'", source, kHint);
    if (!it->second.sizes().equals(dst.sizes()))
      fail("weights '" + name + "' have shape " + shape_text(it->second) + " in the checkpoint, " + shape_text(dst) +
               " in the network",
           source, kHint);
    dst.copy_(it->second);
    ++used;
  };
  for (auto& p : module.named_parameters()) load(p.key(), p.value());
  for (auto& b : module.named_buffers()) load(b.key(), b.value());
  if (used != by_name.size()) fail("checkpoint has weights the network lacks", source, kHint);
}

NamedTensors sgd_momentum_state(const torch::nn::Module& module, torch::optim::SGD& sgd) {
  NamedTensors out;
  auto& states = sgd.state();
  for (const auto& p : module.named_parameters()) {
    auto it = states.find(optimizer_state_key(states, p.value()));
    if (it == states.end()) continue;
    const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
    if (s.momentum_buffer().defined()) out.emplace_back(p.key(), s.momentum_buffer().clone());
  }
  return out;
}

void load_sgd_momentum_state(const torch::nn::Module& module, torch::optim::SGD& sgd, const NamedTensors& state,
                             const std::string& source) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  auto& states = sgd.state();
  states.clear();
  for (const auto& p : module.named_parameters()) {
    auto it = by_name.find(p.key());
    if (it == by_name.end()) continue;
    if (!it->second.sizes().equals(p.value().sizes()))
      fail("momentum of '" + p.key() + "' has the wrong shape", source, kHint);
    auto s = std::make_unique<torch::optim::SGDParamState>();
    s->momentum_buffer(it->second.to(p.value().device()).clone());
    states[optimizer_state_key(states, p.value())] = std::move(s);
  }
}

torch::Tensor defined_gradients(const torch::nn::Module& module) {
  const auto params = module.parameters();
  auto flags = torch::zeros({static_cast<int64_t>(params.size())}, torch::kUInt8);  // [P]
  for (size_t i = 0; i < params.size(); ++i) flags[static_cast<int64_t>(i)] = params[i].grad().defined() ? 1 : 0;
  return flags;
}

void restore_defined_gradients(torch::nn::Module& module, const torch::Tensor& flags, const std::string& source) {
  auto params = module.parameters();
  if (flags.dim() != 1 || flags.size(0) != static_cast<int64_t>(params.size()))
    fail("gradient flags do not match the network's parameters", source, kHint);
  for (size_t i = 0; i < params.size(); ++i)
    params[i].mutable_grad() =
        flags[static_cast<int64_t>(i)].item<int>() ? torch::zeros_like(params[i]) : torch::Tensor();
}

torch::Tensor cpu_generator_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void restore_cpu_generator_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void append_device_generator_state(NamedTensors& out, const torch::Device& device) {
  if (!device.is_cuda()) return;
  auto gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  out.emplace_back("rng/cuda", gen.get_state());
}

void restore_device_generator_state(const NamedTensors& all, const torch::Device& device, const std::string& source) {
  if (!device.is_cuda()) return;
  for (const auto& [name, t] : all)
    if (name == "rng/cuda") {
      auto gen = at::globalContext().defaultGenerator(device);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(t);
      return;
    }
  spdlog::warn(
      "{} holds no CUDA generator state (written on the CPU or by an older version): the GPU's random "
      "numbers restart from the seed",
      source);
}

NamedTensors with_prefix(const NamedTensors& all, const std::string& prefix) {
  NamedTensors out;
  const std::string p = prefix + "/";
  for (const auto& [n, t] : all)
    if (n.rfind(p, 0) == 0) out.emplace_back(n.substr(p.size()), t);
  return out;
}

void append_prefixed(NamedTensors& out, const std::string& prefix, const NamedTensors& entries) {
  for (const auto& [n, t] : entries) out.emplace_back(prefix + "/" + n, t);
}

}  // namespace dnas::store
