#pragma once
// Architecture of the recurrent cell during search: alphas [edges, ops] over every
// (predecessor, activation) pair. DARTS mixes with softmax(alpha) per edge and derives one
// edge per node; NASP (docs/methods.md 7, RNN) forwards the discrete architecture: one op per
// edge (argmax, ties to the lower op), then the top-1 incoming edge per node.
#include <torch/types.h>

#include <string>
#include <vector>

#include "dnas/lm/rnn_genotype.h"

namespace dnas::lm {

// One-hot per edge, then per node only the edge whose selected alpha is largest (ties: the
// smaller predecessor). alpha [E, O]; the result has exactly `steps` ones.
torch::Tensor nasp_rnn_discrete(const torch::Tensor& alpha, int steps);

// The reference DARTS rule for recurrent cells on mixing weights [E, O]: per node, the edge
// with the strongest non-`none` op, and that op (ties: smaller predecessor, lower op).
RnnGenotype derive_rnn_genotype(const torch::Tensor& weights, const std::vector<std::string>& ops, int steps);

// The genotype a discrete architecture (one nonzero per node) encodes.
RnnGenotype discrete_rnn_genotype(const torch::Tensor& discrete, const std::vector<std::string>& ops, int steps);

}  // namespace dnas::lm
