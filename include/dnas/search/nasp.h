#pragma once
// NASP (docs/methods.md 7): continuous alphas in the box [0, 1], a discrete architecture (one op per
// edge, top-2 edges per node) in every forward pass, first-order proximal updates. The
// architecture step computes every op (unselected ones without autograd, so only their mixing
// weight gets a gradient); the weight step computes only the selected ops.
#include <torch/optim/adam.h>

#include <memory>

#include "dnas/search/nasp_proximal.h"
#include "dnas/search/search_config.h"
#include "dnas/search/strategy.h"

namespace dnas::search {

// Zeroes the rows of every edge that is not among its node's two strongest (by the selected
// continuous alpha value; ties: smaller source). `discrete` and `alpha` are [E, O].
torch::Tensor keep_top2_edges(const torch::Tensor& discrete, const torch::Tensor& alpha, int steps);
// Complexity regulariser (Eq. 12): sum_o p_o / sum p * ||A[:, o]||^2 with p_o the conv weight
// count of op o at C = 12 (0-d, differentiable in A).
torch::Tensor nasp_complexity(const torch::Tensor& a, const std::vector<std::string>& op_names);

class NaspStrategy : public SearchStrategy {
 public:
  NaspStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, const NaspConfig& nasp);

  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  supernet::ArchMix inference_mix() const override;  // the discrete architecture
  genotype::Genotype derive() const override;
  // alpha_<type> (continuous, in [0, 1]) and discrete_<type> [E, O].
  std::vector<NamedTensor> arch_tensors() const override;
  std::vector<NamedTensor> state() override;
  void load_state(const std::vector<NamedTensor>& state) override;

  // The discrete architecture of cell type 0 (normal) or 1 (reduce) from the current alphas.
  torch::Tensor discrete(int cell) const;
  // The architecture step's gradient: dL_val/dA (+ eta * dR/dA) at a discrete architecture A of
  // both cells, with every op computed and only the selected ones with autograd (exact: the
  // others carry weight 0). `stats` gets the validation loss and accuracy. [E, O] each.
  struct ArchGradient {
    std::vector<torch::Tensor> discrete, grads;
  };
  ArchGradient architecture_gradient(supernet::Supernet& net, const TensorBatch& val, BatchStats& stats) const;
  // One architecture optimizer step from `grads` (dL/dA, [E, O] per cell), then the variant's
  // proximal step (proximal_step).
  void arch_update(const std::vector<torch::Tensor>& grads);
  std::vector<torch::Tensor>& alphas() { return alphas_; }

 private:
  supernet::SupernetConfig net_;
  NaspConfig cfg_;
  NaspVariant variant_;
  NaspDerive derive_;
  // The discrete architecture keeps the selected alpha's value (standard PA: the iterate itself
  // lives on C; or nasp.discrete_value = alpha) instead of 1.
  bool keeps_alpha_values_;
  std::vector<torch::Tensor> alphas_;  // [normal, reduce], [E, O] each, init 0.5
  std::unique_ptr<torch::optim::Adam> optimizer_;
};

}  // namespace dnas::search
