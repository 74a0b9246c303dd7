#include "dnas/store/checkpoint_file.h"

#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/store/h5_file.h"

namespace dnas::store {
namespace {

constexpr const char* kFormat = "dnas-checkpoint-1";
constexpr const char* kTensorGroup = "tensors";

// Every dataset under `group`, named by its path relative to the tensor group.
void collect(const H5File& file, const std::string& group, const std::string& prefix,
             std::vector<std::pair<std::string, torch::Tensor>>& out) {
  for (const auto& name : file.list(group)) {
    const std::string full = group + "/" + name;
    const std::string rel = prefix.empty() ? name : prefix + "/" + name;
    if (file.is_dataset(full))
      out.emplace_back(rel, file.read_tensor(full));
    else
      collect(file, full, rel, out);
  }
}

}  // namespace

const torch::Tensor& Checkpoint::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  fail("checkpoint has no tensor '" + name + "'", source,
       "it was written by another configuration or version; resume with the same config");
}

double Checkpoint::number(const std::string& key) const {
  auto it = numbers.find(key);
  if (it == numbers.end())
    fail("checkpoint has no value '" + key + "'", source, "resume with a checkpoint of this version");
  return it->second;
}

const std::string& Checkpoint::string(const std::string& key) const {
  auto it = text.find(key);
  if (it == text.end())
    fail("checkpoint has no text '" + key + "'", source, "resume with a checkpoint of this version");
  return it->second;
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  write_atomically(path, [&](H5File& f) {
    f.set_attribute("/", "format", std::string(kFormat));
    f.set_attribute("/", "kind", c.kind);
    for (const auto& [k, v] : c.text) f.set_attribute("/", "text." + k, v);
    for (const auto& [k, v] : c.numbers) f.set_attribute("/", "number." + k, v);
    for (const auto& [name, t] : c.tensors) f.write_tensor(std::string(kTensorGroup) + "/" + name, t);
    // Written last: a file without it was not completed.
    f.set_attribute("/", "complete", static_cast<int64_t>(1));
  });
}

Checkpoint read_checkpoint(const std::string& path, const std::string& expected_kind) {
  H5File f(path, H5File::Mode::Read);
  const std::string hint = "use a checkpoint written by `dnas " + expected_kind + "` (run.out_dir/checkpoint.h5)";
  if (!f.has_attribute("/", "format") || f.string_attribute("/", "format") != kFormat)
    fail("not a dnas checkpoint", path, hint);
  if (!f.has_attribute("/", "complete"))
    fail("checkpoint is incomplete", path, "it was being written when the run stopped");
  Checkpoint c;
  c.source = path;
  c.kind = f.string_attribute("/", "kind");
  if (c.kind != expected_kind) fail("checkpoint of a " + c.kind + " run, expected " + expected_kind, path, hint);
  for (const auto& key : f.attribute_names("/")) {
    if (key.rfind("text.", 0) == 0) c.text[key.substr(5)] = f.string_attribute("/", key);
    if (key.rfind("number.", 0) == 0) c.numbers[key.substr(7)] = f.number_attribute("/", key);
  }
  if (f.exists(kTensorGroup)) collect(f, kTensorGroup, "", c.tensors);
  return c;
}

}  // namespace dnas::store
