#pragma once
// Resumable method state as named tensors (what a checkpoint stores for a search method):
// lookups that fail with the entry's name, and the Adam optimizer's moments.
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace dnas::search {

using NamedTensor = std::pair<std::string, torch::Tensor>;

// The entry called `name`; throws dnas::Error naming it when it is missing.
const torch::Tensor& find_state(const std::vector<NamedTensor>& state, const std::string& name);

// Copies entry `name` into `dst` in place (no autograd); throws when missing or mis-shaped.
void restore_state(const std::vector<NamedTensor>& state, const std::string& name, const torch::Tensor& dst);

// A scalar as a 0-d double tensor, and back.
torch::Tensor scalar_state(double value);
double restore_scalar(const std::vector<NamedTensor>& state, const std::string& name);

// Adam's per-parameter step count and moments as "<prefix>/<i>/{step,exp_avg,exp_avg_sq}"
// for parameter i of group 0 (entries exist only for parameters that have taken a step).
void append_adam_state(std::vector<NamedTensor>& out, const std::string& prefix, torch::optim::Adam& adam);
// Rebuilds Adam's state from those entries (parameters without entries start fresh).
void load_adam_state(torch::optim::Adam& adam, const std::string& prefix, const std::vector<NamedTensor>& state);

}  // namespace dnas::search
