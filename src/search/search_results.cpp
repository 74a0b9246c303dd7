#include "dnas/search/search_results.h"

#include <torch/torch.h>

#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"

namespace dnas::search {

namespace {

namespace names = store::layout::search;

const std::vector<std::pair<std::string, double EpochRecord::*>>& metric_columns() {
  static const std::vector<std::pair<std::string, double EpochRecord::*>> columns = {
      {names::kMetricLr, &EpochRecord::lr},
      {names::kMetricTrainLoss, &EpochRecord::train_loss},
      {names::kMetricTrainAcc, &EpochRecord::train_acc},
      {names::kMetricSearchValAcc, &EpochRecord::search_val_acc},
      {names::kMetricValLoss, &EpochRecord::val_loss},
      {names::kMetricValAcc, &EpochRecord::val_acc},
      {names::kMetricSeconds, &EpochRecord::seconds}};
  return columns;
}

// "<group>/<a>/<b>"
std::string path(const std::string& group, const char* a, const std::string& b = "") {
  return group + "/" + a + (b.empty() ? "" : "/" + b);
}

}  // namespace

void write_search_results(store::H5File& f, const std::string& group, const SearchResult& r,
                          const std::string& method) {
  const auto& columns = metric_columns();
  std::vector<std::string> genotypes;
  for (const auto& e : r.epochs) {
    f.append_row(path(group, names::kMetrics, names::kMetricEpoch),
                 torch::tensor(static_cast<double>(e.epoch), torch::kFloat64));
    for (const auto& [name, field] : columns)
      f.append_row(path(group, names::kMetrics, name), torch::tensor(e.*field, torch::kFloat64));
    genotypes.push_back(e.genotype);
  }
  for (const auto& epoch : r.arch_history)
    for (const auto& [name, t] : epoch) f.append_row(path(group, names::kArch, name), t.to(torch::kFloat32));
  f.write_strings(path(group, names::kGenotypes), genotypes);
  if (!r.normal_ops.empty()) f.write_strings(path(group, names::kOpsNormal), r.normal_ops);
  if (!r.reduce_ops.empty()) f.write_strings(path(group, names::kOpsReduce), r.reduce_ops);
  const std::string text = genotype::to_string(r.genotype);
  f.set_attribute(group, names::kMethod, method);
  f.set_attribute(group, names::kGenotype, text);
  f.set_attribute(group, names::kGenotypeHash, genotype::genotype_hash(r.genotype));
  f.set_attribute(group, names::kWeightParameters, r.weight_parameters);
  f.set_attribute(group, names::kSeconds, r.seconds);
  f.set_attribute(group, names::kEpochs, static_cast<int64_t>(r.epochs.size()));
}

SearchResult read_search_results(const store::H5File& f, const std::string& group) {
  store::check_format_version(f);
  SearchResult r;
  r.genotype = genotype::parse_genotype(f.string_attribute(group, names::kGenotype), f.path() + ": " + group);
  r.weight_parameters = static_cast<int64_t>(f.number_attribute(group, names::kWeightParameters));
  r.seconds = f.number_attribute(group, names::kSeconds);
  const auto genotypes = f.read_strings(path(group, names::kGenotypes));
  r.epochs.resize(genotypes.size());
  for (size_t e = 0; e < genotypes.size(); ++e) r.epochs[e].genotype = genotypes[e];
  if (!genotypes.empty()) {
    const auto epoch = f.read_doubles(path(group, names::kMetrics, names::kMetricEpoch));
    for (size_t e = 0; e < genotypes.size(); ++e) r.epochs[e].epoch = static_cast<int64_t>(epoch.at(e));
    for (const auto& [name, field] : metric_columns()) {
      const auto values = f.read_doubles(path(group, names::kMetrics, name));
      for (size_t e = 0; e < genotypes.size(); ++e) r.epochs[e].*field = values.at(e);
    }
  }
  r.arch_history.resize(genotypes.size());
  if (f.exists(path(group, names::kArch)))
    for (const auto& name : f.list(path(group, names::kArch))) {
      const auto t = f.read_tensor(path(group, names::kArch, name));  // [epochs, ...]
      for (size_t e = 0; e < genotypes.size() && static_cast<int64_t>(e) < t.size(0); ++e)
        r.arch_history[e].emplace_back(name, t[static_cast<int64_t>(e)].clone());
    }
  if (f.exists(path(group, names::kOpsNormal))) r.normal_ops = f.read_strings(path(group, names::kOpsNormal));
  if (f.exists(path(group, names::kOpsReduce))) r.reduce_ops = f.read_strings(path(group, names::kOpsReduce));
  return r;
}

}  // namespace dnas::search
