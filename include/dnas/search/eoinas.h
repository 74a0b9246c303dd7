#pragma once
// EoiNAS (docs/methods.md 4) on GDAS: Gumbel-softmax over the remaining ops of every edge, per-op
// training counts and validation accuracies, the indicator I = beta + lambda * Ca / Ce, and
// gradual operation pruning (one op per edge at the end of every prune_every-th epoch after the
// warm-up) until one op is left. Pruned ops are never computed again.
#include <torch/optim/adam.h>

#include <memory>

#include "dnas/search/eoinas_config.h"
#include "dnas/search/eoinas_stats.h"
#include "dnas/search/search_config.h"
#include "dnas/search/strategy.h"

namespace dnas::search {

// T_e: temp0 up to the end of the warm-up, then temp0 * decay^(e - warmup).
double eoinas_temperature(int64_t epoch, const EoinasConfig& c);
// Whether the end of (0-based) epoch `epoch` is a pruning point: 1-based epoch E > warmup with
// (E - warmup) a multiple of prune_every.
bool eoinas_prunes_after(int64_t epoch, const EoinasConfig& c);
// eoinas.skip_dropout (the code's schedule): p = 0.1 (E - e - 1) / E in the warm-up, then
// 0.1 exp(-0.2 (e - warmup)); 0 when the switch is off. e 0-based, E the search's epochs.
double eoinas_skip_dropout(int64_t epoch, int64_t epochs, const EoinasConfig& c);

// One soft Gumbel draw per row of `logits` [E, O] (removed ops at -inf):
// h = softmax((logits + g) / tau) and the sampled op k = argmax h (the Gumbel-max sample).
struct SoftDraw {
  torch::Tensor h;       // [E, O]
  torch::Tensor chosen;  // [E] int64
};
SoftDraw gumbel_softmax_draw(const torch::Tensor& logits, double tau);

class EoinasStrategy : public SearchStrategy {
 public:
  EoinasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, const EoinasConfig& eoinas);

  void begin_epoch(const EpochInfo& info) override;
  void end_epoch(const EpochInfo& info) override;  // the pruning step
  StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) override;
  // Noise-free: beta over the remaining ops (hard forward: the strongest remaining op only).
  supernet::ArchMix inference_mix() const override;
  // Per edge: its surviving op (or argmax I over the remaining non-none ops) and its strength
  // (I at the last prune, or the current max I); top-2 edges per node.
  genotype::Genotype derive() const override;
  // alpha_<type> (removed ops at -inf), indicator_<type>, ce_<type>, ca_<type>,
  // alive_<type> (0/1), temperature.
  std::vector<NamedTensor> arch_tensors() const override;
  std::vector<NamedTensor> state() override;
  void load_state(const std::vector<NamedTensor>& state) override;

  // Prunes every edge of both cell types once and starts a fresh Adam (also used by `dnas bench`).
  void prune();
  double temperature() const { return temperature_; }
  const OpStatistics& stats(int cell) const { return stats_[static_cast<size_t>(cell)]; }
  std::vector<torch::Tensor> alphas() const { return alphas_; }

 private:
  struct Sample {
    supernet::ArchMix mix;
    std::vector<torch::Tensor> chosen;  // [E] int64 per cell type: the sampled op
  };
  Sample sample(bool detach) const;
  void reset_optimizer();

  supernet::SupernetConfig net_;
  OptimConfig optim_;
  EoinasConfig cfg_;
  EoinasForward forward_;
  EoinasAccStat acc_stat_;
  std::vector<torch::Tensor> alphas_;  // [normal, reduce], each [E, O]
  std::vector<OpStatistics> stats_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  double temperature_;
  double skip_dropout_ = 0.0;
};

}  // namespace dnas::search
