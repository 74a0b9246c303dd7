#pragma once
// Stretchable Cells topology (docs/methods.md 6): per state (output perspective) or per node (input
// perspective) a softmax over topology options, each option switching on a set of edges.
// Merged into one scale per edge, so the supernet costs what DARTS costs:
//   s(e) = scale_k * sum over options of chooser k that contain e of p_k(option).
//   stretchable: chooser = state i, options = non-empty subsets of its posterior states
//                P(i) (binary codes, bit k = k-th member), scale (2^d - 1) / 2^(d - 1);
//   fixed2:      options = the pairs of P(i) (lexicographic), scale C(d,2) / (d - 1);
//   input:       chooser = intermediate j, options = pairs of its predecessors, scale 1.
#include <torch/types.h>

#include <string>
#include <vector>

#include "dnas/genotype/genotype.h"
#include "dnas/search/sc_config.h"

namespace dnas::search {

struct ScTopologySettings {
  ScVariant variant = ScVariant::Stretchable;
  ScPerspective perspective = ScPerspective::Output;  // input: Table 5 ablation, always pairs
  bool allow_empty_code = false;                      // stretchable: include the empty code (scale 2)
  ScOrphan orphan = ScOrphan::Drop;                   // intermediates left without inputs
};

class ScTopology {
 public:
  ScTopology(int steps, const ScTopologySettings& settings);

  struct Chooser {
    int state = 0;                          // the state whose choice this is
    std::vector<std::vector<int>> options;  // option -> edges it switches on
    double scale = 1.0;
    torch::Tensor membership;  // [options, E] 0/1: the options as a matrix
  };
  const std::vector<Chooser>& choosers() const { return choosers_; }
  std::vector<int64_t> logit_sizes() const;  // one per chooser

  // [E] merged edge scales from the choosers' logits (differentiable).
  torch::Tensor edge_scales(const std::vector<torch::Tensor>& logits) const;
  // Edges that can carry a non-zero scale (fixed2 leaves out those of states with d < 2).
  std::vector<bool> present_edges() const;
  // Passive-aggressive regulariser r (Eq. 14-15): sum over intermediates j of the product over
  // choosers that can feed j of (1 - max_{options with j} p / max p). 0-d; 0 for `input`.
  torch::Tensor regularizer(const std::vector<torch::Tensor>& logits) const;
  // The derived cell: argmax option per chooser, the argmax non-none op of alpha [E, O] on each
  // chosen edge, then the orphan rule. Nodes' genes in source order; concat = surviving nodes.
  genotype::CellGenotype derive(const std::vector<torch::Tensor>& logits, const torch::Tensor& alpha,
                                const std::vector<std::string>& op_names) const;

  int steps() const { return steps_; }

 private:
  void build(int steps, const ScTopologySettings& settings);  // fills choosers_ (options, scales)
  int steps_;
  ScTopologySettings settings_;
  std::vector<Chooser> choosers_;
};

}  // namespace dnas::search
