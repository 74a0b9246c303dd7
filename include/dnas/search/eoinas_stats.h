#pragma once
// EoiNAS bookkeeping for one cell type (docs/methods.md 4): which ops each edge still has, the
// per-op training-iteration counts Ce and validation accuracies Ca, the operation-importance
// indicator I = softmax(alpha) + lambda * Ca / Ce, and gradual operation pruning.
#include <torch/types.h>

#include <string>
#include <vector>

namespace dnas::search {

// Kept on the CPU (a few [E, O] tables); the alphas and samples passed in may live anywhere.
class OpStatistics {
 public:
  // reference_window > 0 scales C by N / reference_window, N the weight steps since the last
  // prune (see indicator); inf_when_unsampled sets C = +inf where Ce = 0 (the code) instead of 0.
  OpStatistics(int64_t edges, std::vector<std::string> op_names, double reference_window = 0.0,
               bool inf_when_unsampled = false);

  // Ce[e, k_e] += 1 for the op k_e sampled on every edge in a weight step.
  void count_training(const torch::Tensor& sampled);  // [E] int64
  // Ca[e, k_e] = acc (percent) for the ops sampled in an architecture step; mean=true keeps
  // the running mean since the last prune instead of the last value.
  void record_accuracy(const torch::Tensor& sampled, double acc_percent, bool mean);

  // C = Ca / Ce (0 where Ce = 0) and I = beta + lambda * C, with beta = softmax(alpha) over the
  // remaining ops; removed ops get -inf. [E, O] double. Ce grows with the window N (Ce ~ N beta),
  // so with a reference window C is scaled by N / reference_window: the term weighs what it
  // weighs in the paper's window whatever N.
  torch::Tensor indicator(const torch::Tensor& alpha, double lambda) const;
  // Softmax of alpha [E, O] over the remaining ops of each edge (removed ops: 0).
  torch::Tensor beta(const torch::Tensor& alpha) const;
  // alpha with removed ops at -inf (for masked softmax and Gumbel draws).
  torch::Tensor masked(const torch::Tensor& alpha) const;

  // One gradual-pruning step: on every edge with more than one op, records the edge strength
  // (max of I over its non-none ops) and removes argmin I (ties: lower op index); when two ops
  // remain and one is `none`, `none` goes. Then Ce = 0 (Ca kept). Returns the removed op per edge
  // (-1 where nothing was removed).
  std::vector<int64_t> prune(const torch::Tensor& alpha, double lambda);

  int64_t remaining(int64_t edge) const;
  bool fully_pruned() const;                                   // every edge down to one op
  const torch::Tensor& alive() const { return alive_; }        // [E, O] bool
  const torch::Tensor& ce() const { return ce_; }              // [E, O] double
  const torch::Tensor& ca() const { return ca_; }              // [E, O] double
  const torch::Tensor& ca_count() const { return ca_count_; }  // [E, O] double, for acc_stat=mean
  const torch::Tensor& strength() const { return strength_; }  // [E] double, at the last prune
  int64_t prunes() const { return prunes_; }

  // Checkpoint entries "<prefix>alive" etc., and back.
  void append_state(std::vector<std::pair<std::string, torch::Tensor>>& out, const std::string& prefix) const;
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state, const std::string& prefix);

 private:
  std::vector<std::string> ops_;
  double reference_window_ = 0.0;
  bool inf_when_unsampled_ = false;
  torch::Tensor alive_, ce_, ca_, ca_count_, strength_;
  int64_t prunes_ = 0;
};

}  // namespace dnas::search
