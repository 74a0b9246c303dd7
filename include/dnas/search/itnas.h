#pragma once
// ITNAS (docs/methods.md 5): annealed Gumbel softmax on the outer edges, inner edges derived through
// learnable transition matrices and attention over predecessors, TIEP derivation. First-order
// alternating updates as in DARTS: an Adam step on (theta, Z, a) on a val batch, then a w step.
#include <torch/optim/adam.h>

#include <memory>

#include "dnas/search/itnas_config.h"
#include "dnas/search/itnas_transition.h"
#include "dnas/search/search_config.h"
#include "dnas/search/strategy.h"

namespace dnas::search {

// The architecture parameters of one cell type.
struct ItnasCellParameters {
  torch::Tensor theta;  // [n_outer, O] (all E edges when itnas.transition is off), 1e-3 N(0,1)
  torch::Tensor z;      // [P, O, O] transition logits (empty without transition)
  torch::Tensor a;      // [P] attention logits (empty without transition)
};

// Linear temperature: tau0 at epoch 0, tau_min at the last epoch.
double itnas_tau(int64_t epoch, int64_t epochs, double tau0, double tau_min);

class ItnasStrategy : public SearchStrategy {
 public:
  ItnasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, const ItnasConfig& itnas);

  void begin_epoch(const EpochInfo& info) override;
  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  // Noise-free weights: softmax(theta) on outer edges and the transition recursion from them.
  supernet::ArchMix inference_mix() const override;
  // TIEP per cell type (or, with itnas.tiep off, the DARTS rule on the noise-free weights).
  genotype::Genotype derive() const override;
  // edge_logits_<type> [E, O] (log of the noise-free weights, so softmax gives them back),
  // theta_<type>, transition_<type> [P, O, O] (row-stochastic T), attention_logits_<type> [P], tau.
  std::vector<NamedTensor> arch_tensors() const override;
  std::vector<NamedTensor> state() override;
  void load_state(const std::vector<NamedTensor>& state) override;

  // Weights [E, O] of one forward pass for cell type 0 (normal) or 1 (reduce); sample: draw
  // Gumbel noise on the outer edges (when itnas.gumbel is on).
  torch::Tensor cell_weights(int cell, bool sample) const;
  double tau() const { return tau_; }
  const EdgeGroups& groups() const { return groups_; }
  std::vector<ItnasCellParameters>& parameters() { return cells_; }
  std::vector<torch::Tensor> parameter_list() const;
  int64_t parameter_count() const;

 private:
  supernet::ArchMix mix(bool sample, bool detach) const;
  supernet::SupernetConfig net_;
  ItnasConfig cfg_;
  ItnasDeriveFrom derive_from_;
  EdgeGroups groups_;
  std::vector<ItnasCellParameters> cells_;  // [normal, reduce]
  std::unique_ptr<torch::optim::Adam> optimizer_;
  double tau_;
};

}  // namespace dnas::search
