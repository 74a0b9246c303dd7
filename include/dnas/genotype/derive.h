#pragma once
// Discretisation of architecture weights into a cell genotype (DARTS rule, docs/methods.md 1.6).
#include <torch/types.h>

#include <string>
#include <vector>

#include "dnas/genotype/genotype.h"

namespace dnas::genotype {

// weights: [E, O] row-stochastic (softmax(alpha)) with E = num_edges(steps); op_names: the O
// column names. Edge strength = max over ops other than "none"; each node keeps its `keep`
// strongest edges (ties -> smaller j) with op = argmax over non-none ops (ties -> lower
// column); genes strongest first; concat = [2..steps+1].
CellGenotype derive_darts(const torch::Tensor& weights, const std::vector<std::string>& op_names, int steps,
                          int keep = 2);

// Same selection from a per-edge strength and a per-edge op (both of length num_edges(steps)),
// for methods that score edges their own way. Edges whose op is "none" are never kept.
CellGenotype derive_top_k(const std::vector<double>& edge_strength, const std::vector<std::string>& edge_op, int steps,
                          int keep = 2);

// Per edge of [E, O] weights: the strongest op other than "none" (ties -> lower column) and its
// weight; NaN weights are an error.
void strongest_ops(const torch::Tensor& weights, const std::vector<std::string>& op_names, int steps,
                   std::vector<double>& strength, std::vector<std::string>& op);

// The Stretchable Cells paper's output-edge rule (its Table 5 "DARTS, output edges"): every
// state with at least two posterior states (docs/methods.md 6) keeps its two strongest outgoing
// edges, then the orphan rule below; nodes may end with any number of inputs.
CellGenotype derive_output_edges(const std::vector<double>& edge_strength, const std::vector<std::string>& edge_op,
                                 int steps);

// The orphan rule (docs/methods.md 6): alive states when intermediates without an input from an
// alive state are removed until nothing changes (inputs 0 and 1 are always alive).
std::vector<bool> surviving_states(const std::vector<bool>& edge_on, int steps);

// The cell of the switched-on edges between alive states: each node's genes in source order
// with the edge's op; concat = the alive intermediates (nodes of dead states have no genes).
CellGenotype cell_of_edges(const std::vector<bool>& edge_on, const std::vector<bool>& alive,
                           const std::vector<std::string>& edge_op, int steps);

}  // namespace dnas::genotype
