#include "dnas/genotype/derive.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "dnas/core/error.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/ops/op_names.h"

namespace dnas::genotype {

namespace {

void check_steps_and_keep(int steps, int keep, const char* where) {
  if (steps < 1)
    fail("steps must be at least 1, got " + std::to_string(steps), where, "use steps = nodes - 3");
  if (keep < 1)
    fail("keep must be at least 1, got " + std::to_string(keep), where,
         "DARTS keeps 2 edges per node");
}

}  // namespace

CellGenotype derive_top_k(const std::vector<double>& edge_strength,
                          const std::vector<std::string>& edge_op, int steps, int keep) {
  check_steps_and_keep(steps, keep, "derive_top_k");
  const size_t edges = static_cast<size_t>(num_edges(steps));
  if (edge_strength.size() != edges || edge_op.size() != edges)
    fail("expected " + std::to_string(edges) + " edges for " + std::to_string(steps) +
             " steps, got " + std::to_string(edge_strength.size()) + " strengths and " +
             std::to_string(edge_op.size()) + " ops",
         "derive_top_k", "give one strength and one op per edge in canonical edge order");
  CellGenotype cell;
  for (int s = 2; s < steps + 2; ++s) {
    std::vector<int> candidates;
    for (int j = 0; j < s; ++j) {
      const int e = edge_index(s, j);
      if (std::isnan(edge_strength[e]))
        fail("edge strength of edge " + std::to_string(j) + "->" + std::to_string(s) + " is NaN",
             "derive_top_k", "the architecture parameters diverged; lower the alpha learning rate");
      if (ops::canonical_op_name(edge_op[e], "derive_top_k") != "none") candidates.push_back(j);
    }
    // Stable sort by decreasing strength: ties keep the smaller j first.
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
      return edge_strength[edge_index(s, a)] > edge_strength[edge_index(s, b)];
    });
    if (static_cast<int>(candidates.size()) > keep) candidates.resize(keep);
    std::vector<Gene> node;
    for (int j : candidates) node.push_back({ops::canonical_op_name(edge_op[edge_index(s, j)]), j});
    cell.nodes.push_back(std::move(node));
  }
  cell.concat.resize(steps);
  std::iota(cell.concat.begin(), cell.concat.end(), 2);
  return cell;
}

CellGenotype derive_darts(const torch::Tensor& weights, const std::vector<std::string>& op_names,
                          int steps, int keep) {
  check_steps_and_keep(steps, keep, "derive_darts");
  const int64_t edges = num_edges(steps);
  const auto num_ops = static_cast<int64_t>(op_names.size());
  if (!weights.defined() || weights.dim() != 2 || weights.size(0) != edges ||
      weights.size(1) != num_ops)
    fail("architecture weights have shape " +
             (weights.defined() ? c10::str(weights.sizes()) : "undefined") + ", expected [" +
             std::to_string(edges) + ", " + std::to_string(num_ops) + "]",
         "derive_darts",
         "rows = num_edges(steps) = " + std::to_string(edges) + ", columns = one per op name");
  std::vector<bool> usable(op_names.size());
  for (size_t o = 0; o < op_names.size(); ++o)
    usable[o] = ops::canonical_op_name(op_names[o], "derive_darts") != "none";
  if (std::find(usable.begin(), usable.end(), true) == usable.end())
    fail("no op other than 'none' to choose from", "derive_darts", "the op set needs a real op");

  const torch::Tensor w = weights.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto acc = w.accessor<double, 2>();
  std::vector<double> strength(edges);
  std::vector<std::string> best_op(edges);
  for (int64_t e = 0; e < edges; ++e) {
    int64_t best = -1;
    for (int64_t o = 0; o < num_ops; ++o) {
      if (!usable[o]) continue;
      if (std::isnan(acc[e][o]))
        fail("architecture weight [" + std::to_string(e) + ", " + std::to_string(o) + "] is NaN",
             "derive_darts", "the architecture parameters diverged; lower the alpha learning rate");
      if (best < 0 || acc[e][o] > acc[e][best]) best = o;  // strict: ties keep the lower column
    }
    strength[e] = acc[e][best];
    best_op[e] = op_names[best];
  }
  return derive_top_k(strength, best_op, steps, keep);
}

}  // namespace dnas::genotype
