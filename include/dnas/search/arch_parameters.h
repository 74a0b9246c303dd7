#pragma once
// The architecture parameters of the softmax-based methods (alphas per cell type) and the Adam
// optimizer every method uses for its architecture parameters.
#include <torch/optim/adam.h>

#include <memory>
#include <string>
#include <vector>

#include "dnas/search/search_config.h"
#include "dnas/search/strategy.h"

namespace dnas::search {

// Adam over architecture parameters with the search.arch_* settings (every method's choice).
std::unique_ptr<torch::optim::Adam> make_arch_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimConfig& optim);

// Alphas [E, O] per cell type with their Adam optimizer; reused by softmax-based methods.
struct ArchParameters {
  ArchParameters(int64_t edges, int64_t normal_ops, int64_t reduce_ops, const OptimConfig& optim,
                 torch::Device device = torch::kCPU);
  torch::Tensor alpha_normal;  // [E, O_normal], init 1e-3 * N(0, 1)
  torch::Tensor alpha_reduce;  // [E, O_reduce]
  std::unique_ptr<torch::optim::Adam> optimizer;
  std::vector<torch::Tensor> list() const { return {alpha_normal, alpha_reduce}; }
  // "<prefix>alpha_normal", "<prefix>alpha_reduce" and "<prefix>adam/..." entries.
  void append_state(std::vector<NamedTensor>& out, const std::string& prefix = "") const;
  void load_state(const std::vector<NamedTensor>& state, const std::string& prefix = "");
};

}  // namespace dnas::search
