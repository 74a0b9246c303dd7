#include "dnas/search/search_results.h"

#include <torch/torch.h>

namespace dnas::search {

void write_search_results(store::H5File& f, const std::string& group, const SearchResult& r, const std::string& method) {
  const std::vector<std::pair<std::string, double EpochRecord::*>> columns = {
      {"lr", &EpochRecord::lr},           {"train_loss", &EpochRecord::train_loss},
      {"train_acc", &EpochRecord::train_acc}, {"search_val_acc", &EpochRecord::search_val_acc},
      {"val_loss", &EpochRecord::val_loss}, {"val_acc", &EpochRecord::val_acc},
      {"seconds", &EpochRecord::seconds}};
  std::vector<std::string> genotypes;
  for (const auto& e : r.epochs) {
    f.append_row(group + "/metrics/epoch", torch::tensor(static_cast<double>(e.epoch), torch::kFloat64));
    for (const auto& [name, field] : columns) f.append_row(group + "/metrics/" + name, torch::tensor(e.*field, torch::kFloat64));
    genotypes.push_back(e.genotype);
  }
  for (const auto& epoch : r.arch_history)
    for (const auto& [name, t] : epoch) f.append_row(group + "/arch/" + name, t.to(torch::kFloat32));
  f.write_strings(group + "/genotypes", genotypes);
  if (!r.normal_ops.empty()) f.write_strings(group + "/ops_normal", r.normal_ops);
  if (!r.reduce_ops.empty()) f.write_strings(group + "/ops_reduce", r.reduce_ops);
  const std::string text = genotype::to_string(r.genotype);
  f.set_attribute(group, "method", method);
  f.set_attribute(group, "genotype", text);
  f.set_attribute(group, "genotype_hash", genotype::genotype_hash(r.genotype));
  f.set_attribute(group, "weight_parameters", r.weight_parameters);
  f.set_attribute(group, "seconds", r.seconds);
  f.set_attribute(group, "epochs", static_cast<int64_t>(r.epochs.size()));
}

}  // namespace dnas::search
