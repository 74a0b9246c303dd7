#pragma once
// Stretchable Cells (docs/methods.md 6) on DARTS (`darts_sc`, first order, bi-level) and MiLeNAS
// (`milenas_sc`, mixed level): op logits alpha per edge as in DARTS, plus topology logits beta
// per state merged into one scale per edge, and lambda * r(beta) added to the beta loss.
#include <torch/optim/adam.h>

#include <memory>

#include "dnas/search/arch_parameters.h"
#include "dnas/search/sc_config.h"
#include "dnas/search/sc_topology.h"

namespace dnas::search {

// The method SC runs on: DARTS (first order, bi-level) or MiLeNAS (mixed level).
enum class ScBase { Darts, Milenas };

class ScStrategy : public SearchStrategy {
 public:
  // sc.val_split `auto` means shared here (the strategy factory resolves it per method and dataset).
  ScStrategy(ScBase base, const supernet::SupernetConfig& net, const OptimConfig& optim, const ScConfig& sc,
             double milenas_lambda);

  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  StrategyNeeds needs() const override { return {separate_ ? 2 : 1, true}; }
  supernet::ArchMix inference_mix() const override { return mix(/*detach=*/true); }
  genotype::Genotype derive() const override;
  // alpha_<type> [E, O], edge_scale_<type> [E], beta_<type>_s<i> per chooser, regularizer.
  std::vector<NamedTensor> arch_tensors() const override;
  std::vector<NamedTensor> state() override;
  void load_state(const std::vector<NamedTensor>& state) override;

  const ScTopology& topology() const { return topology_; }
  std::vector<std::vector<torch::Tensor>>& betas() { return betas_; }  // [cell type][chooser]
  ArchParameters& arch() { return arch_; }
  torch::Tensor regularizer() const;  // r(beta) summed over both cell types

 private:
  supernet::ArchMix mix(bool detach) const;
  std::vector<torch::Tensor> beta_list() const;
  // Gradients of `loss` w.r.t. the alphas (first two) and the betas (the rest), zeros if unused.
  std::vector<torch::Tensor> gradients(WeightTrainer& w, const TensorBatch& batch, BatchStats* stats);

  ScBase base_;
  supernet::SupernetConfig net_;
  ScConfig cfg_;
  double milenas_lambda_;
  bool separate_;
  ScTopology topology_;
  ArchParameters arch_;
  std::vector<std::vector<torch::Tensor>> betas_;
  std::unique_ptr<torch::optim::Adam> beta_optimizer_;
};

}  // namespace dnas::search
