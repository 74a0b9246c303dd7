#pragma once
// Discretisation of architecture weights into a cell genotype (DARTS rule, METHODS.md 1.6).
#include <torch/types.h>

#include <string>
#include <vector>

#include "dnas/genotype/genotype.h"

namespace dnas::genotype {

// weights: [E, O] row-stochastic (softmax(alpha)) with E = num_edges(steps); op_names: the O
// column names. Edge strength = max over ops other than "none"; each node keeps its `keep`
// strongest edges (ties -> smaller j) with op = argmax over non-none ops (ties -> lower
// column); genes strongest first; concat = [2..steps+1].
CellGenotype derive_darts(const torch::Tensor& weights, const std::vector<std::string>& op_names,
                          int steps, int keep = 2);

// Same selection from a per-edge strength and a per-edge op (both of length num_edges(steps)),
// for methods that score edges their own way. Edges whose op is "none" are never kept.
CellGenotype derive_top_k(const std::vector<double>& edge_strength,
                          const std::vector<std::string>& edge_op, int steps, int keep = 2);

}  // namespace dnas::genotype
