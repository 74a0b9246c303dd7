#pragma once
// Names of candidate operations and of the op sets of docs/methods.md 1.1.
// The order of a set fixes the column index of the architecture parameters.
#include <string>
#include <vector>

namespace dnas::ops {

enum class CellType { Normal, Reduce };

// Every op the search spaces and published genotypes use, canonical spelling.
const std::vector<std::string>& known_op_names();

// Maps an alias ("conv 3x3", "sep_3x3", ...) to its canonical name; throws dnas::Error
// naming `context` when the op is unknown.
std::string canonical_op_name(const std::string& name, const std::string& context = "");

bool is_known_op(const std::string& name);  // accepts aliases

// Op set by name: darts8, darts7, nasp12 (normal/reduce lists differ), nasp7.
std::vector<std::string> op_set(const std::string& set_name, CellType cell);

// Names of all op sets, for --help and error hints.
const std::vector<std::string>& op_set_names();

}  // namespace dnas::ops
