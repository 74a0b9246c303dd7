#pragma once
// GDAS (docs/methods.md 3): one op per edge drawn by hard Gumbel-max with a straight-through
// gradient; only the drawn op is computed. w step first, then an α step on a val batch.
#include "dnas/search/arch_parameters.h"
#include "dnas/search/gdas_config.h"

namespace dnas::search {

// One straight-through Gumbel draw per row of alpha [E, O]:
// h = softmax((log_softmax(alpha) + g) / tau), k = argmax h,
// hard = onehot(k) - stopgrad(h) + h  (exactly one-hot in value, gradient dh/dalpha).
struct GumbelDraw {
  torch::Tensor hard;   // [E, O]
  torch::Tensor index;  // [E] int64, the drawn op per edge
};
GumbelDraw gumbel_straight_through(const torch::Tensor& alpha, double tau);

// Linear temperature: tau_max at epoch 0, tau_min at epoch E-1.
double gdas_tau(int64_t epoch, int64_t epochs, double tau_max, double tau_min);

class GdasStrategy : public SearchStrategy {
 public:
  GdasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, const GdasConfig& gdas);

  void begin_epoch(const EpochInfo& info) override;
  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  // The strongest non-`none` op of every edge (discrete), as the derived network would run.
  supernet::ArchMix inference_mix() const override;
  genotype::Genotype derive() const override;
  std::vector<NamedTensor> arch_tensors() const override;
  // Alphas and Adam moments; tau is recomputed by begin_epoch. The Gumbel noise comes from
  // torch's default generator, whose state the checkpoint saves separately.
  std::vector<NamedTensor> state() override;
  void load_state(const std::vector<NamedTensor>& state) override { arch_.load_state(state); }

  // A fresh sample for both cell types; detach: no gradient to alpha (weight step).
  supernet::ArchMix sample_mix(bool detach) const;
  double tau() const { return tau_; }
  ArchParameters& arch() { return arch_; }

 private:
  supernet::SupernetConfig net_;
  GdasConfig gdas_;
  GdasDerive derive_;
  ArchParameters arch_;
  double tau_;
};

// AutoDL's GDAS genotype: per node the two strongest (op, src) pairs over all incoming edges
// (none excluded), which may use one source twice.
genotype::CellGenotype derive_autodl(const torch::Tensor& weights, const std::vector<std::string>& op_names, int steps);

}  // namespace dnas::search
