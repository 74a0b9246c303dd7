#pragma once
// The random baselines every comparison table needs beside it:
// - `random`: a uniformly random genotype of the space (2 distinct inputs per node, a random
//   non-`none` op per input), no supernet training: search cost 0.
// - `random_ws`: random search with weight sharing (Li & Talwalkar): every step trains the
//   supernet on one fresh random architecture (only its ops run); after the last epoch the
//   best of `random.candidates` random architectures by D_val loss is the result.
#include <torch/types.h>

#include "dnas/search/random_config.h"
#include "dnas/search/strategy.h"
#include "dnas/supernet/supernet.h"

namespace dnas::search {

// [E, O] with one 1 per selected edge (2 distinct predecessors per node, uniform non-`none`
// op) and zero rows elsewhere; draws from `gen` (undefined = torch's default generator).
torch::Tensor random_architecture(int steps, const std::vector<std::string>& ops,
                                  c10::optional<at::Generator> gen = c10::nullopt);

// The genotype a random architecture encodes (genes in edge order).
genotype::CellGenotype architecture_genotype(const torch::Tensor& arch, const std::vector<std::string>& ops, int steps);

// Only the selected ops of each cell run.
supernet::ArchMix architecture_mix(const torch::Tensor& normal, const torch::Tensor& reduce,
                                   torch::Device device = torch::kCPU);

class RandomStrategy : public SearchStrategy {
 public:
  RandomStrategy(const supernet::SupernetConfig& net, uint64_t seed);
  StrategyNeeds needs() const override { return {1, /*trains_supernet=*/false}; }
  StepResult step(WeightTrainer&, const StepBatches&, const EpochInfo&) override { return {}; }
  supernet::ArchMix inference_mix() const override { return architecture_mix(arch_[0], arch_[1], net_.device); }
  genotype::Genotype derive() const override;
  std::vector<NamedTensor> arch_tensors() const override;
  std::vector<NamedTensor> state() override { return arch_tensors(); }
  void load_state(const std::vector<NamedTensor>& state) override;

 protected:
  supernet::SupernetConfig net_;
  std::vector<torch::Tensor> arch_;  // [normal, reduce] architectures, [E, O] each
};

class RandomWsStrategy : public RandomStrategy {
 public:
  RandomWsStrategy(const supernet::SupernetConfig& net, uint64_t seed, const RandomConfig& cfg);
  // A fresh random architecture from torch's default generator (checkpointed), weight step only.
  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  StrategyNeeds needs() const override { return {}; }  // trains the supernet
  void finish(const std::function<double(const supernet::ArchMix&)>& val_loss) override;

 private:
  RandomConfig cfg_;
  uint64_t seed_;
};

}  // namespace dnas::search
