#pragma once
// MiLeNAS (docs/methods.md 2): mixed-level first-order update
// g_alpha = dL_train(w, a; B_tr)/da + lambda * dL_val(w, a; B_val)/da, Adam step, then a
// w step on B_tr as in DARTS. arch_grad_clip > 0 clips g_alpha's norm (the code, with w unclipped:
// milenas.clip_arch_grads_like_code).
#include "dnas/search/darts.h"

namespace dnas::search {

class MilenasStrategy : public SearchStrategy {
 public:
  MilenasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, double lambda,
                  double arch_grad_clip = 0.0);

  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  supernet::ArchMix inference_mix() const override { return darts_.inference_mix(); }
  genotype::Genotype derive() const override { return darts_.derive(); }
  std::vector<NamedTensor> arch_tensors() const override { return darts_.arch_tensors(); }
  std::vector<NamedTensor> state() override { return darts_.state(); }
  void load_state(const std::vector<NamedTensor>& state) override { darts_.load_state(state); }

  // The mixed-level gradient at the current w, [normal, reduce].
  std::vector<torch::Tensor> mixed_level_gradient(WeightTrainer& weights, const TensorBatch& train,
                                                  const TensorBatch& val, BatchStats* val_stats = nullptr);
  ArchParameters& arch() { return darts_.arch(); }

 private:
  DartsStrategy darts_;  // alphas, softmax mixing, derivation and the first-order gradient
  double lambda_;
  double arch_grad_clip_;
};

}  // namespace dnas::search
