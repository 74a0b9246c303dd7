#include "dnas/search/search_results.h"

#include <torch/torch.h>

namespace dnas::search {

namespace {

const std::vector<std::pair<std::string, double EpochRecord::*>>& metric_columns() {
  static const std::vector<std::pair<std::string, double EpochRecord::*>> columns = {
      {"lr", &EpochRecord::lr},           {"train_loss", &EpochRecord::train_loss},
      {"train_acc", &EpochRecord::train_acc}, {"search_val_acc", &EpochRecord::search_val_acc},
      {"val_loss", &EpochRecord::val_loss}, {"val_acc", &EpochRecord::val_acc},
      {"seconds", &EpochRecord::seconds}};
  return columns;
}

std::vector<double> doubles(const store::H5File& f, const std::string& name) {
  const auto t = f.read_tensor(name).to(torch::kFloat64).contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

}  // namespace

void write_search_results(store::H5File& f, const std::string& group, const SearchResult& r, const std::string& method) {
  const auto& columns = metric_columns();
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

SearchResult read_search_results(const store::H5File& f, const std::string& group) {
  SearchResult r;
  r.genotype = genotype::parse_genotype(f.string_attribute(group, "genotype"), f.path() + ": " + group);
  r.weight_parameters = static_cast<int64_t>(f.number_attribute(group, "weight_parameters"));
  r.seconds = f.number_attribute(group, "seconds");
  const auto genotypes = f.read_strings(group + "/genotypes");
  r.epochs.resize(genotypes.size());
  for (size_t e = 0; e < genotypes.size(); ++e) r.epochs[e].genotype = genotypes[e];
  if (!genotypes.empty()) {
    const auto epoch = doubles(f, group + "/metrics/epoch");
    for (size_t e = 0; e < genotypes.size(); ++e) r.epochs[e].epoch = static_cast<int64_t>(epoch.at(e));
    for (const auto& [name, field] : metric_columns()) {
      const auto values = doubles(f, group + "/metrics/" + name);
      for (size_t e = 0; e < genotypes.size(); ++e) r.epochs[e].*field = values.at(e);
    }
  }
  r.arch_history.resize(genotypes.size());
  if (f.exists(group + "/arch"))
    for (const auto& name : f.list(group + "/arch")) {
      const auto t = f.read_tensor(group + "/arch/" + name);  // [epochs, ...]
      for (size_t e = 0; e < genotypes.size() && static_cast<int64_t>(e) < t.size(0); ++e)
        r.arch_history[e].emplace_back(name, t[static_cast<int64_t>(e)].clone());
    }
  if (f.exists(group + "/ops_normal")) r.normal_ops = f.read_strings(group + "/ops_normal");
  if (f.exists(group + "/ops_reduce")) r.reduce_ops = f.read_strings(group + "/ops_reduce");
  return r;
}

}  // namespace dnas::search
