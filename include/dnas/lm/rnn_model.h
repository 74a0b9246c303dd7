#pragma once
// Word-level language model around one recurrent cell of the DARTS/NASP space (docs/methods.md 7):
// embedding -> cell unrolled over time -> decoder tied to the embedding. The cell either mixes
// every (predecessor, activation) pair of every node with given weights (search) or follows a
// genotype (one pair per node). Variational dropouts as in the reference: embedding rows,
// locked dropout on the input and output, per-sequence masks on x_t and on the node inputs.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dnas/lm/rnn_genotype.h"
#include "dnas/ops/precision.h"

namespace dnas::lm {

struct RnnModelConfig {
  int64_t vocab = 0;        // tokens (from the corpus)
  int64_t hidden = 300;     // embedding size = hidden size (the decoder is tied)
  int steps = 8;            // intermediate nodes
  bool node_bn = false;     // search: BatchNorm (affine false, batch statistics) on every node
  double dropout = 0.75;    // cell output (locked over time)
  double dropout_h = 0.25;  // h_{t-1} and node inputs (per sequence)
  double dropout_x = 0.75;  // x_t (per sequence)
  double dropout_i = 0.2;   // embedded input (locked over time)
  double dropout_e = 0.0;   // whole embedding rows (words)
  // bf16: the matrix products run under autocast; node states, batch norm, the carried hidden
  // state, the log-probabilities and the regularised outputs stay float32.
  ops::Precision precision = ops::Precision::Fp32;
};

// Edges of a cell with `steps` nodes: node i (1..steps) reads every j < i.
int rnn_edge_count(int steps);
int rnn_edge_index(int node, int pred);

// How the cell combines its edges.
struct CellPlan {
  torch::Tensor weights;         // mixed: [edges, ops]; undefined: follow `genotype`
  std::vector<std::string> ops;  // mixed: activation per column ("none" contributes nothing)
  RnnGenotype genotype;          // fixed plan
  // mixed: pairs with weight 0 run without autograd, so only their weight gets a gradient
  // (exact, as they contribute nothing else: NASP's architecture step at a discrete point).
  bool grads_through_selected_only = false;
  static CellPlan mixed(torch::Tensor weights, std::vector<std::string> ops);
  static CellPlan fixed(RnnGenotype genotype);
};

struct LmForward {
  torch::Tensor log_probs;  // [T*B, vocab]
  torch::Tensor hidden;     // [B, H]: the last cell output (detach before the next batch)
  torch::Tensor outputs;    // [T, B, H] cell outputs (temporal activation regularisation)
  torch::Tensor dropped;    // [T, B, H] after the output dropout (activation regularisation)
};

class RnnLanguageModelImpl : public torch::nn::Module {
 public:
  explicit RnnLanguageModelImpl(const RnnModelConfig& config);

  // input [T, B] token ids, hidden [B, H].
  LmForward forward(const torch::Tensor& input, const torch::Tensor& hidden, const CellPlan& plan);
  torch::Tensor init_hidden(int64_t batch) const;
  const RnnModelConfig& config() const { return cfg_; }
  // (edge, activation) pairs computed so far, summed over time steps (tests, NASP oracle 6).
  int64_t edge_evaluations() const { return evaluations_; }
  void restore_edge_evaluations(int64_t n) { evaluations_ = n; }  // a resumed search

 private:
  torch::Tensor init_state(const torch::Tensor& x, const torch::Tensor& h, const torch::Tensor& x_mask,
                           const torch::Tensor& h_mask);
  // `selected`: per node, the (j, op) pairs that keep autograd when the plan asks for that.
  using SelectedPairs = std::vector<std::vector<std::pair<int, int64_t>>>;
  SelectedPairs selected_pairs(const CellPlan& plan) const;
  torch::Tensor mixed_cell(const torch::Tensor& s0, const torch::Tensor& h_mask, const CellPlan& plan,
                           const SelectedPairs& selected);
  std::pair<torch::Tensor, torch::Tensor> gates(const torch::Tensor& s, const torch::Tensor& h_mask, int node);
  torch::Tensor fixed_cell(const torch::Tensor& s0, const torch::Tensor& h_mask, const CellPlan& plan);
  torch::Tensor node_norm(const torch::Tensor& s);

  RnnModelConfig cfg_;
  torch::Tensor encoder_;          // [vocab, H], also the decoder weight
  torch::Tensor decoder_bias_;     // [vocab]
  torch::Tensor w0_;               // [2H, 2H]: [x_t, h_{t-1}] -> [c0, h0]
  std::vector<torch::Tensor> ws_;  // steps x [H, 2H]: node i's W_i, shared by its incoming edges
  int64_t evaluations_ = 0;
};
TORCH_MODULE(RnnLanguageModel);

int64_t parameter_count(const RnnLanguageModel& model);

}  // namespace dnas::lm
