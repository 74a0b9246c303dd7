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
  if (steps < 1) fail("steps must be at least 1, got " + std::to_string(steps), where, "use steps = nodes - 3");
  if (keep < 1) fail("keep must be at least 1, got " + std::to_string(keep), where, "DARTS keeps 2 edges per node");
}

}  // namespace

CellGenotype derive_top_k(const std::vector<double>& edge_strength, const std::vector<std::string>& edge_op, int steps,
                          int keep) {
  check_steps_and_keep(steps, keep, "derive_top_k");
  const size_t edges = static_cast<size_t>(num_edges(steps));
  if (edge_strength.size() != edges || edge_op.size() != edges)
    fail("expected " + std::to_string(edges) + " edges for " + std::to_string(steps) + " steps, got " +
             std::to_string(edge_strength.size()) + " strengths and " + std::to_string(edge_op.size()) + " ops",
         "derive_top_k", "give one strength and one op per edge in canonical edge order");
  CellGenotype cell;
  for (int s = 2; s < steps + 2; ++s) {
    std::vector<int> candidates;
    for (int j = 0; j < s; ++j) {
      const int e = edge_index(s, j);
      if (std::isnan(edge_strength[e]))
        fail("edge strength of edge " + std::to_string(j) + "->" + std::to_string(s) + " is NaN", "derive_top_k",
             "the architecture parameters diverged; lower the alpha learning rate");
      if (ops::canonical_op_name(edge_op[e], "derive_top_k") != "none") candidates.push_back(j);
    }
    // Stable sort by decreasing strength: ties keep the smaller j first.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](int a, int b) { return edge_strength[edge_index(s, a)] > edge_strength[edge_index(s, b)]; });
    if (static_cast<int>(candidates.size()) > keep) candidates.resize(keep);
    std::vector<Gene> node;
    for (int j : candidates) node.push_back({ops::canonical_op_name(edge_op[edge_index(s, j)]), j});
    cell.nodes.push_back(std::move(node));
  }
  cell.concat.resize(steps);
  std::iota(cell.concat.begin(), cell.concat.end(), 2);
  return cell;
}

CellGenotype derive_darts(const torch::Tensor& weights, const std::vector<std::string>& op_names, int steps, int keep) {
  check_steps_and_keep(steps, keep, "derive_darts");
  std::vector<double> strength;
  std::vector<std::string> best_op;
  strongest_ops(weights, op_names, steps, strength, best_op);
  return derive_top_k(strength, best_op, steps, keep);
}

void strongest_ops(const torch::Tensor& weights, const std::vector<std::string>& op_names, int steps,
                   std::vector<double>& strength, std::vector<std::string>& op) {
  const int64_t edges = num_edges(steps);
  const auto num_ops = static_cast<int64_t>(op_names.size());
  if (!weights.defined() || weights.dim() != 2 || weights.size(0) != edges || weights.size(1) != num_ops)
    fail("architecture weights have shape " + (weights.defined() ? c10::str(weights.sizes()) : "undefined") +
             ", expected [" + std::to_string(edges) + ", " + std::to_string(num_ops) + "]",
         "derive_darts", "rows = num_edges(steps) = " + std::to_string(edges) + ", columns = one per op name");
  std::vector<bool> usable(op_names.size());
  for (size_t o = 0; o < op_names.size(); ++o)
    usable[o] = ops::canonical_op_name(op_names[o], "derive_darts") != "none";
  if (std::find(usable.begin(), usable.end(), true) == usable.end())
    fail("no op other than 'none' to choose from", "derive_darts", "the op set needs a real op");
  const torch::Tensor w = weights.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto acc = w.accessor<double, 2>();
  strength.assign(static_cast<size_t>(edges), 0.0);
  op.assign(static_cast<size_t>(edges), "");
  for (int64_t e = 0; e < edges; ++e) {
    int64_t best = -1;
    for (int64_t o = 0; o < num_ops; ++o) {
      if (!usable[static_cast<size_t>(o)]) continue;
      if (std::isnan(acc[e][o]))
        fail("architecture weight [" + std::to_string(e) + ", " + std::to_string(o) + "] is NaN", "derive_darts",
             "the architecture parameters diverged; lower the alpha learning rate");
      if (best < 0 || acc[e][o] > acc[e][best]) best = o;  // strict: ties keep the lower column
    }
    strength[static_cast<size_t>(e)] = acc[e][best];
    op[static_cast<size_t>(e)] = op_names[static_cast<size_t>(best)];
  }
}

std::vector<bool> surviving_states(const std::vector<bool>& edge_on, int steps) {
  std::vector<bool> alive(static_cast<size_t>(steps + 2), true);
  auto has_input = [&](int j) {
    for (int i = 0; i < j; ++i)
      if (alive[static_cast<size_t>(i)] && edge_on[static_cast<size_t>(edge_index(j, i))]) return true;
    return false;
  };
  for (bool changed = true; changed;) {  // dropping a node can orphan its successors
    changed = false;
    for (int j = 2; j < steps + 2; ++j)
      if (alive[static_cast<size_t>(j)] && !has_input(j)) {
        alive[static_cast<size_t>(j)] = false;
        changed = true;
      }
  }
  return alive;
}

CellGenotype cell_of_edges(const std::vector<bool>& edge_on, const std::vector<bool>& alive,
                           const std::vector<std::string>& edge_op, int steps) {
  CellGenotype cell;
  for (int j = 2; j < steps + 2; ++j) {
    std::vector<Gene> genes;
    if (alive[static_cast<size_t>(j)])
      for (int i = 0; i < j; ++i)
        if (alive[static_cast<size_t>(i)] && edge_on[static_cast<size_t>(edge_index(j, i))])
          genes.push_back({ops::canonical_op_name(edge_op[static_cast<size_t>(edge_index(j, i))]), i});
    cell.nodes.push_back(genes);
    if (alive[static_cast<size_t>(j)]) cell.concat.push_back(j);
  }
  return cell;
}

CellGenotype derive_output_edges(const std::vector<double>& edge_strength, const std::vector<std::string>& edge_op,
                                 int steps) {
  check_steps_and_keep(steps, 2, "derive_output_edges");
  std::vector<bool> on(static_cast<size_t>(num_edges(steps)), false);
  for (int i = 0; i < steps + 1; ++i) {
    std::vector<int> targets;  // P(i): the intermediates state i can feed
    for (int j = std::max(2, i + 1); j < steps + 2; ++j) targets.push_back(j);
    if (targets.size() < 2) continue;  // d_i < 2: no output edges (as the fixed two-edge variant)
    std::stable_sort(targets.begin(), targets.end(), [&](int a, int b) {
      return edge_strength[static_cast<size_t>(edge_index(a, i))] >
             edge_strength[static_cast<size_t>(edge_index(b, i))];
    });
    for (int k = 0; k < 2; ++k) on[static_cast<size_t>(edge_index(targets[static_cast<size_t>(k)], i))] = true;
  }
  auto alive = surviving_states(on, steps);
  if (std::none_of(alive.begin() + 2, alive.end(), [](bool b) { return b; })) {
    // Nothing would be left: every orphan takes its strongest incoming edge instead.
    std::fill(alive.begin(), alive.end(), true);
    for (int j = 2; j < steps + 2; ++j) {
      bool fed = false;
      for (int i = 0; i < j; ++i) fed = fed || on[static_cast<size_t>(edge_index(j, i))];
      if (fed) continue;
      int best = 0;
      for (int i = 1; i < j; ++i)
        if (edge_strength[static_cast<size_t>(edge_index(j, i))] >
            edge_strength[static_cast<size_t>(edge_index(j, best))])
          best = i;
      on[static_cast<size_t>(edge_index(j, best))] = true;
    }
  }
  return cell_of_edges(on, alive, edge_op, steps);
}

}  // namespace dnas::genotype
