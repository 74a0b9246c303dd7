#pragma once
// Checkpoint files: named tensors plus text and number attributes in one HDF5 file, written
// atomically (temporary + fsync + rename), validated on read. The layout is generic; the
// search and train modules decide the names (e.g. "model/cells.0._ops.1.op.1.weight").
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dnas::store {

struct Checkpoint {
  std::string kind;                                            // "search" | "train": what wrote it
  std::map<std::string, std::string> text;                     // e.g. config, method, genotype
  std::map<std::string, double> numbers;                       // e.g. epoch, step
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // "group/name" -> tensor

  const torch::Tensor& tensor(const std::string& name) const;  // throws naming the file
  double number(const std::string& key) const;
  const std::string& string(const std::string& key) const;
  std::string source;  // the file it was read from (for errors)
};

// Replaces `path` atomically; an existing good file survives any failure.
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Reads and validates a checkpoint; throws dnas::Error naming the file when it is missing,
// truncated, not a dnas checkpoint, or of another kind than `expected_kind`.
Checkpoint read_checkpoint(const std::string& path, const std::string& expected_kind);

}  // namespace dnas::store
