#include "dnas/search/strategy_state.h"

#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/store/module_state.h"

namespace dnas::search {
namespace {

const torch::Tensor* lookup(const std::vector<NamedTensor>& state, const std::string& name) {
  for (const auto& [n, t] : state)
    if (n == name) return &t;
  return nullptr;
}

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "," : "") + std::to_string(t.size(d));
  return s + "]";
}

}  // namespace

const torch::Tensor& find_state(const std::vector<NamedTensor>& state, const std::string& name) {
  const auto* t = lookup(state, name);
  if (!t)
    fail("method state has no entry '" + name + "'", "checkpoint",
         "the checkpoint was written by another method or version; resume with the same config");
  return *t;
}

void restore_state(const std::vector<NamedTensor>& state, const std::string& name, const torch::Tensor& dst) {
  const auto& src = find_state(state, name);
  if (!src.sizes().equals(dst.sizes()))
    fail("method state entry '" + name + "' has shape " + shape_text(src) + ", expected " + shape_text(dst),
         "checkpoint", "the search space (steps, op set, layers) differs from the checkpoint's");
  torch::NoGradGuard no_grad;
  dst.copy_(src);
}

torch::Tensor scalar_state(double value) { return torch::tensor(value, torch::kDouble); }

double restore_scalar(const std::vector<NamedTensor>& state, const std::string& name) {
  const auto& t = find_state(state, name);
  if (t.numel() != 1) fail("method state entry '" + name + "' is not a scalar", "checkpoint");
  return t.item<double>();
}

void append_adam_state(std::vector<NamedTensor>& out, const std::string& prefix, torch::optim::Adam& adam) {
  const auto& params = adam.param_groups().at(0).params();
  auto& states = adam.state();
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = states.find(store::optimizer_state_key(states, params[i]));
    if (it == states.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const auto key = prefix + "/" + std::to_string(i) + "/";
    out.emplace_back(key + "step", torch::tensor(s.step(), torch::kInt64));
    out.emplace_back(key + "exp_avg", s.exp_avg().clone());
    out.emplace_back(key + "exp_avg_sq", s.exp_avg_sq().clone());
  }
}

void load_adam_state(torch::optim::Adam& adam, const std::string& prefix, const std::vector<NamedTensor>& state) {
  const auto& params = adam.param_groups().at(0).params();
  auto& states = adam.state();
  for (size_t i = 0; i < params.size(); ++i) {
    const auto key = prefix + "/" + std::to_string(i) + "/";
    const auto* step = lookup(state, key + "step");
    states.erase(store::optimizer_state_key(states, params[i]));
    if (!step) continue;
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(step->item<int64_t>());
    s->exp_avg(torch::zeros_like(params[i]));
    s->exp_avg_sq(torch::zeros_like(params[i]));
    restore_state(state, key + "exp_avg", s->exp_avg());
    restore_state(state, key + "exp_avg_sq", s->exp_avg_sq());
    states[store::optimizer_state_key(states, params[i])] = std::move(s);
  }
}

}  // namespace dnas::search
