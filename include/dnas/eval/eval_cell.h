#pragma once
// A discrete cell built from a genotype (docs/methods.md 1.8): node m is the sum of op(state[src])
// over its genes; ops on a cell input of a reduction cell have stride 2; the output
// concatenates the `concat` states. Module names follow the reference DARTS `Cell`.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <vector>

#include "dnas/genotype/genotype.h"
#include "dnas/ops/operations.h"

namespace dnas::eval {

class EvalCellImpl : public torch::nn::Module {
 public:
  // c_pp, c_p: channels of the two cell inputs; c: channels of every node.
  EvalCellImpl(const genotype::CellGenotype& cell, int64_t c_pp, int64_t c_p, int64_t c, bool reduction,
               bool reduction_prev);

  // s0 [N, c_pp, H0, W0], s1 [N, c_p, H, W] -> [N, |concat| * c, H/s, W/s].
  // drop_prob > 0 applies drop-path to every gene whose op is not an identity (training only).
  torch::Tensor forward(const torch::Tensor& s0, const torch::Tensor& s1, double drop_prob);
  // The same from ReLU(s0) and ReLU(s1): both preprocessing ops start with a ReLU, and a cell's
  // output feeds two cells, so the network applies each ReLU once.
  torch::Tensor forward_activated(const torch::Tensor& relu_s0, const torch::Tensor& relu_s1, double drop_prob);

  int64_t multiplier() const { return static_cast<int64_t>(cell_.concat.size()); }
  bool reduction() const { return reduction_; }

 private:
  torch::Tensor run_nodes(std::vector<torch::Tensor> states, double drop_prob);
  genotype::CellGenotype cell_;
  bool reduction_;
  ops::CandidateOpPtr preprocess0, preprocess1;
  std::vector<ops::CandidateOpPtr> ops_;     // one per gene, node by node
  std::vector<bool> is_identity_;            // per gene: stride-1 skip_connect (no drop-path)
  torch::nn::ModuleList ops_list_{nullptr};  // "_ops"
};
TORCH_MODULE(EvalCell);

}  // namespace dnas::eval
