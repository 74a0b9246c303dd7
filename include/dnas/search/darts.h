#pragma once
// DARTS (docs/methods.md 1.5): softmax over alpha on every edge, alternating an Adam step on alpha
// (first order, or the unrolled second-order hypergradient) with an SGD step on w.
#include "dnas/search/arch_parameters.h"
#include "dnas/search/search_config.h"
#include "dnas/search/strategy.h"

namespace dnas::search {

class DartsStrategy : public SearchStrategy {
 public:
  DartsStrategy(int order, const supernet::SupernetConfig& net, const OptimConfig& optim);

  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  supernet::ArchMix inference_mix() const override;
  genotype::Genotype derive() const override;
  std::vector<NamedTensor> arch_tensors() const override;
  std::vector<NamedTensor> state() override;
  void load_state(const std::vector<NamedTensor>& state) override;

  // Gradient of L_val w.r.t. the alphas at the current w (first order), [normal, reduce].
  std::vector<torch::Tensor> first_order_gradient(WeightTrainer& weights, const TensorBatch& val,
                                                  BatchStats* stats = nullptr);
  // Unrolled hypergradient (unrolled_hypergradient, CNN form) with xi = the current lr and the
  // momentum buffer in the virtual step; restores w exactly. [normal, reduce].
  std::vector<torch::Tensor> second_order_gradient(WeightTrainer& weights, const TensorBatch& train,
                                                   const TensorBatch& val, BatchStats* stats = nullptr);

  ArchParameters& arch() { return arch_; }

 private:
  supernet::ArchMix mix(bool detach) const;
  int order_;
  double hessian_radius_;
  bool output_edges_;  // search.derive_edges = output
  supernet::SupernetConfig net_;
  ArchParameters arch_;
};

}  // namespace dnas::search
