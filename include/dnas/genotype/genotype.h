#pragma once
// Discrete cell architectures (genotypes) and their DARTS `genotypes.py` text form
// (docs/methods.md 1.7). State 0/1 are the cell inputs, state 2+m is intermediate node m.
#include <string>
#include <vector>

namespace dnas::genotype {

// One input of a node: operation `op` (canonical name) applied to state `src`.
struct Gene {
  std::string op;
  int src = 0;
};

struct CellGenotype {
  std::vector<std::vector<Gene>> nodes;  // nodes[m] = genes of intermediate node m (state 2+m)
  std::vector<int> concat;               // states concatenated into the cell output
  int steps() const { return static_cast<int>(nodes.size()); }
};

struct Genotype {
  CellGenotype normal, reduce;
};

bool operator==(const Gene& a, const Gene& b);
bool operator!=(const Gene& a, const Gene& b);
bool operator==(const CellGenotype& a, const CellGenotype& b);
bool operator!=(const CellGenotype& a, const CellGenotype& b);
bool operator==(const Genotype& a, const Genotype& b);
bool operator!=(const Genotype& a, const Genotype& b);

// True when every node has exactly two genes (the cell prints in the flat DARTS form).
bool is_flat(const CellGenotype& cell);

// Canonical text: `Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])`.
// A cell list is flat `[('op', src), ...]` when is_flat, else nested `[[...], [], ...]`.
std::string to_string(const Genotype& genotype);
// Only the gene list of one cell (flat or nested as above), for logs.
std::string to_string(const CellGenotype& cell);
// `[2, 3, 4, 5]`
std::string concat_to_string(const std::vector<int>& concat);

// Number of genes whose op is `op` (aliases accepted), e.g. count_op(cell, "skip_connect").
int count_op(const CellGenotype& cell, const std::string& op);

// 16 hex digits of the FNV-1a 64-bit hash of to_string(genotype): equal cells, equal hashes.
std::string genotype_hash(const Genotype& genotype);

// Longest path, in ops, from a cell input to the cell output (nodes without genes ignored).
int cell_depth(const CellGenotype& cell);

// One line per node: "  node 2 = sep_conv_3x3(0) + skip_connect(1)", then the concat.
std::string describe_cell(const CellGenotype& cell);

// Throws dnas::Error naming `where` when a gene has an unknown or non-canonical op, a source
// outside [0, 2+m), or when concat is empty, out of [2, 2+steps) or repeats a state.
void validate_cell(const CellGenotype& cell, const std::string& where);
void validate_genotype(const Genotype& genotype, const std::string& where);

// Parses the text form (full grammar of docs/methods.md 1.7). `source` names where the text came
// from (config key, file) and appears in every error with the character position.
Genotype parse_genotype(const std::string& text, const std::string& source = "genotype");

}  // namespace dnas::genotype
