#pragma once
// Edge indexing of a DARTS cell (docs/methods.md 0). States 0,1 are the cell inputs, state 2+m
// is intermediate node m; edge (j -> s) exists for s >= 2, j < s, in canonical order
// `for s in 2..n+1: for j in 0..s-1`.

namespace dnas::genotype {

// Number of edges of a cell with `steps` intermediate nodes: n(n+3)/2.
constexpr int num_edges(int steps) { return steps * (steps + 3) / 2; }

// Index of edge (j -> s): 2(s-2) + (s-2)(s-3)/2 + j.
constexpr int edge_index(int s, int j) { return 2 * (s - 2) + (s - 2) * (s - 3) / 2 + j; }

}  // namespace dnas::genotype
