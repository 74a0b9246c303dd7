#include "dnas/genotype/genotype.h"

#include <set>

#include "dnas/core/error.h"
#include "dnas/core/hash.h"
#include "dnas/ops/op_names.h"

namespace dnas::genotype {

bool operator==(const Gene& a, const Gene& b) { return a.op == b.op && a.src == b.src; }
bool operator!=(const Gene& a, const Gene& b) { return !(a == b); }
bool operator==(const CellGenotype& a, const CellGenotype& b) { return a.nodes == b.nodes && a.concat == b.concat; }
bool operator!=(const CellGenotype& a, const CellGenotype& b) { return !(a == b); }
bool operator==(const Genotype& a, const Genotype& b) { return a.normal == b.normal && a.reduce == b.reduce; }
bool operator!=(const Genotype& a, const Genotype& b) { return !(a == b); }

bool is_flat(const CellGenotype& cell) {
  for (const auto& node : cell.nodes)
    if (node.size() != 2) return false;
  return !cell.nodes.empty();
}

namespace {

std::string gene_list(const std::vector<Gene>& genes) {
  std::string s;
  for (const auto& g : genes) {
    if (!s.empty()) s += ", ";
    s += "('" + g.op + "', " + std::to_string(g.src) + ")";
  }
  return s;
}

}  // namespace

std::string to_string(const CellGenotype& cell) {
  if (is_flat(cell)) {
    std::string s;
    for (const auto& node : cell.nodes) s += (s.empty() ? "" : ", ") + gene_list(node);
    return "[" + s + "]";
  }
  std::string s;
  for (size_t m = 0; m < cell.nodes.size(); ++m) s += (m ? ", [" : "[") + gene_list(cell.nodes[m]) + "]";
  return "[" + s + "]";
}

std::string concat_to_string(const std::vector<int>& concat) {
  std::string s;
  for (int c : concat) s += (s.empty() ? "" : ", ") + std::to_string(c);
  return "[" + s + "]";
}

std::string to_string(const Genotype& g) {
  return "Genotype(normal=" + to_string(g.normal) + ", normal_concat=" + concat_to_string(g.normal.concat) +
         ", reduce=" + to_string(g.reduce) + ", reduce_concat=" + concat_to_string(g.reduce.concat) + ")";
}

int count_op(const CellGenotype& cell, const std::string& op) {
  const std::string wanted = ops::is_known_op(op) ? ops::canonical_op_name(op) : op;
  int count = 0;
  for (const auto& node : cell.nodes)
    for (const auto& g : node) count += g.op == wanted ? 1 : 0;
  return count;
}

void validate_cell(const CellGenotype& cell, const std::string& where) {
  const int steps = cell.steps();
  if (steps == 0) fail("cell has no intermediate nodes", where, "a cell needs at least one node");
  for (int m = 0; m < steps; ++m) {
    for (const auto& g : cell.nodes[m]) {
      const std::string node = "node " + std::to_string(m) + " (state " + std::to_string(2 + m) + ")";
      if (!ops::is_known_op(g.op) || ops::canonical_op_name(g.op) != g.op)
        fail("unknown or non-canonical operation '" + g.op + "' in " + node, where,
             "use the canonical name of a known op");
      if (g.src < 0 || g.src >= 2 + m)
        fail("input state " + std::to_string(g.src) + " of " + node + " is out of range", where,
             "node m may only read states 0.." + std::to_string(1 + m));
    }
  }
  if (cell.concat.empty()) fail("concat is empty", where, "list the states forming the output");
  std::set<int> seen;
  for (int c : cell.concat) {
    if (c < 2 || c >= 2 + steps)
      fail("concat state " + std::to_string(c) + " is out of range", where,
           "concat lists intermediate states 2.." + std::to_string(1 + steps));
    if (!seen.insert(c).second)
      fail("concat state " + std::to_string(c) + " appears twice", where, "list each state once");
  }
}

void validate_genotype(const Genotype& genotype, const std::string& where) {
  validate_cell(genotype.normal, where + ": normal cell");
  validate_cell(genotype.reduce, where + ": reduce cell");
}

int cell_depth(const CellGenotype& cell) {
  std::vector<int> depth(cell.nodes.size() + 2, 0);  // per state: ops on the longest path to it
  for (size_t m = 0; m < cell.nodes.size(); ++m)
    for (const auto& g : cell.nodes[m]) depth[m + 2] = std::max(depth[m + 2], depth[static_cast<size_t>(g.src)] + 1);
  int out = 0;
  for (int s : cell.concat) out = std::max(out, depth[static_cast<size_t>(s)]);
  return out;
}

std::string describe_cell(const CellGenotype& cell) {
  std::string s;
  for (size_t m = 0; m < cell.nodes.size(); ++m) {
    s += "  node " + std::to_string(m + 2) + " =";
    if (cell.nodes[m].empty()) s += " (no inputs)";
    for (size_t i = 0; i < cell.nodes[m].size(); ++i)
      s += (i ? " + " : " ") + cell.nodes[m][i].op + "(" + std::to_string(cell.nodes[m][i].src) + ")";
    s += "\n";
  }
  return s + "  output = concat" + concat_to_string(cell.concat) + "\n";
}

std::string genotype_hash(const Genotype& g) { return core::fnv1a_hex(to_string(g)); }

}  // namespace dnas::genotype
