#pragma once
// ITNAS inter-layer transition (docs/methods.md 5): outer edges (leaving a cell input) carry their own
// op weights; an inner edge (i -> s) derives its weights from the incoming edges p of state i as
//   w_q = sum_p A_{p->q} * (w_p T_{p->q}),  T = rowsoftmax(Z_{p->q}),  A = softmax_p(a_{p->q}),
// and TIEP derives the genotype node by node from one-hot kept predecessors.
#include <torch/types.h>

#include <string>
#include <vector>

#include "dnas/genotype/genotype.h"

namespace dnas::search {

// The edge groups of a cell with `steps` intermediate nodes, in canonical edge order.
struct EdgeGroups {
  int steps = 0;
  std::vector<int> outer;  // edges whose source is state 0 or 1
  std::vector<int> inner;  // edges whose source is an intermediate state
  // For inner edge inner[k]: its predecessor edges (every edge entering its source state) and
  // the index of pair (p -> q) in the transition tensors, pair_begin[k] + position of p.
  std::vector<std::vector<int>> preds;
  std::vector<int> pair_begin;
  int pairs = 0;
  std::vector<int> outer_row;  // [E]: row of edge e in theta (outer edges), -1 for inner edges
};
EdgeGroups edge_groups(int steps);

// Per-edge weights [E, O] from outer weights [n_outer, O] (rows in `outer` order), transition
// logits Z [P, O, O] and attention logits a [P]. `source` [n_outer, O] is what outer
// predecessors pass on (the sample itself, or softmax(theta) with itnas.derive_from=probs).
// Differentiable in all inputs; inner rows are computed in topological (canonical) order.
torch::Tensor transition_weights(const EdgeGroups& g, const torch::Tensor& outer, const torch::Tensor& source,
                                 const torch::Tensor& z, const torch::Tensor& a);

// TIEP (docs/methods.md 5, Algorithm 1): for each state in order, score its incoming edges (outer:
// softmax(theta); inner: renormalised attention over the kept predecessors times the rows of T
// picked by their chosen ops), keep the two strongest (ties: smaller source first), fix their
// ops to the argmax. Genes strongest first; concat = all intermediate states.
genotype::CellGenotype tiep_derive(const EdgeGroups& g, const torch::Tensor& theta, const torch::Tensor& z,
                                   const torch::Tensor& a, const std::vector<std::string>& op_names);

}  // namespace dnas::search
