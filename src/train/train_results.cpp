#include "dnas/train/train_results.h"

#include <torch/torch.h>

#include <limits>

#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"

namespace dnas::train {
namespace {

namespace names = store::layout::train;

const std::vector<std::pair<std::string, double TrainEpoch::*>>& metric_columns() {
  static const std::vector<std::pair<std::string, double TrainEpoch::*>> columns = {
      {names::kMetricLr, &TrainEpoch::lr},
      {names::kMetricDropPath, &TrainEpoch::drop_path},
      {names::kMetricTrainLoss, &TrainEpoch::train_loss},
      {names::kMetricTrainAcc, &TrainEpoch::train_acc},
      {names::kMetricValLoss, &TrainEpoch::val_loss},
      {names::kMetricValAcc, &TrainEpoch::val_acc},
      {names::kMetricSeconds, &TrainEpoch::seconds}};
  return columns;
}

// "<group>/metrics/<name>"
std::string metric_path(const std::string& group, const std::string& name) {
  return group + "/" + names::kMetrics + "/" + name;
}

}  // namespace

void write_train_results(store::H5File& f, const std::string& group, const TrainResult& r) {
  const auto& columns = metric_columns();
  for (const auto& e : r.epochs) {
    f.append_row(metric_path(group, names::kMetricEpoch), torch::tensor(static_cast<double>(e.epoch), torch::kFloat64));
    for (const auto& [name, field] : columns)
      f.append_row(metric_path(group, name), torch::tensor(e.*field, torch::kFloat64));
    f.append_row(metric_path(group, names::kMetricDataWait), torch::tensor(e.data_wait, torch::kFloat64));
  }
  f.write_strings(group + "/" + names::kGenotypeText, {genotype::to_string(r.genotype)});
  f.set_attribute(group, names::kGenotype, genotype::to_string(r.genotype));
  f.set_attribute(group, names::kGenotypeHash, genotype::genotype_hash(r.genotype));
  f.set_attribute(group, names::kGenotypeOrigin, r.genotype_origin);
  f.set_attribute(group, names::kChannels, r.channels);
  f.set_attribute(group, names::kParameters, r.cost.parameters);
  f.set_attribute(group, names::kParametersWithAux, r.cost.parameters_with_aux);
  f.set_attribute(group, names::kMultiplyAdds, r.cost.multiply_adds);
  f.set_attribute(group, names::kSkipConnectionsNormal,
                  static_cast<int64_t>(genotype::count_op(r.genotype.normal, "skip_connect")));
  f.set_attribute(group, names::kSkipConnectionsReduce,
                  static_cast<int64_t>(genotype::count_op(r.genotype.reduce, "skip_connect")));
  f.set_attribute(group, names::kSelectedEpoch, r.selected_epoch);
  f.set_attribute(group, names::kTestLoss, r.test_loss);
  f.set_attribute(group, names::kTestAcc, r.test_acc);
  f.set_attribute(group, names::kTestTop5Acc, r.test_top5_acc);
  f.set_attribute(group, names::kSeconds, r.seconds);
}

TrainResult read_train_results(const store::H5File& f, const std::string& group) {
  store::check_format_version(f);
  TrainResult r;
  r.genotype = genotype::parse_genotype(f.string_attribute(group, names::kGenotype), f.path() + ": " + group);
  r.genotype_origin = f.string_attribute(group, names::kGenotypeOrigin);
  auto integer = [&](const char* key) { return static_cast<int64_t>(f.number_attribute(group, key)); };
  r.channels = integer(names::kChannels);
  r.cost = {integer(names::kParameters), integer(names::kParametersWithAux), integer(names::kMultiplyAdds)};
  r.selected_epoch = integer(names::kSelectedEpoch);
  r.test_loss = f.number_attribute(group, names::kTestLoss);
  r.test_acc = f.number_attribute(group, names::kTestAcc);
  r.test_top5_acc = f.has_attribute(group, names::kTestTop5Acc) ? f.number_attribute(group, names::kTestTop5Acc)
                                                                : std::numeric_limits<double>::quiet_NaN();
  r.seconds = f.number_attribute(group, names::kSeconds);
  if (f.exists(metric_path(group, names::kMetricEpoch))) {
    const auto epoch = f.read_doubles(metric_path(group, names::kMetricEpoch));
    r.epochs.resize(epoch.size());
    for (size_t e = 0; e < epoch.size(); ++e) r.epochs[e].epoch = static_cast<int64_t>(epoch[e]);
    for (const auto& [name, field] : metric_columns()) {
      const auto values = f.read_doubles(metric_path(group, name));
      for (size_t e = 0; e < epoch.size(); ++e) r.epochs[e].*field = values.at(e);
    }
    if (f.exists(metric_path(group, names::kMetricDataWait))) {
      const auto wait = f.read_doubles(metric_path(group, names::kMetricDataWait));
      for (size_t e = 0; e < epoch.size(); ++e) r.epochs[e].data_wait = wait.at(e);
    }
  }
  return r;
}

}  // namespace dnas::train
