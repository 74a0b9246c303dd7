#include "dnas/train/train_results.h"

#include <torch/torch.h>

namespace dnas::train {
namespace {

const std::vector<std::pair<std::string, double TrainEpoch::*>>& metric_columns() {
  static const std::vector<std::pair<std::string, double TrainEpoch::*>> columns = {
      {"lr", &TrainEpoch::lr},           {"drop_path", &TrainEpoch::drop_path}, {"train_loss", &TrainEpoch::train_loss},
      {"train_acc", &TrainEpoch::train_acc}, {"val_loss", &TrainEpoch::val_loss}, {"val_acc", &TrainEpoch::val_acc},
      {"seconds", &TrainEpoch::seconds}};
  return columns;
}

std::vector<double> doubles(const store::H5File& f, const std::string& name) {
  const auto t = f.read_tensor(name).to(torch::kFloat64).contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

}  // namespace

void write_train_results(store::H5File& f, const std::string& group, const TrainResult& r) {
  const auto& columns = metric_columns();
  for (const auto& e : r.epochs) {
    f.append_row(group + "/metrics/epoch", torch::tensor(static_cast<double>(e.epoch), torch::kFloat64));
    for (const auto& [name, field] : columns) f.append_row(group + "/metrics/" + name, torch::tensor(e.*field, torch::kFloat64));
  }
  f.write_strings(group + "/genotype_text", {genotype::to_string(r.genotype)});
  f.set_attribute(group, "genotype", genotype::to_string(r.genotype));
  f.set_attribute(group, "genotype_hash", genotype::genotype_hash(r.genotype));
  f.set_attribute(group, "genotype_origin", r.genotype_origin);
  f.set_attribute(group, "channels", r.channels);
  f.set_attribute(group, "parameters", r.cost.parameters);
  f.set_attribute(group, "parameters_with_aux", r.cost.parameters_with_aux);
  f.set_attribute(group, "multiply_adds", r.cost.multiply_adds);
  f.set_attribute(group, "skip_connections_normal", static_cast<int64_t>(genotype::count_op(r.genotype.normal, "skip_connect")));
  f.set_attribute(group, "skip_connections_reduce", static_cast<int64_t>(genotype::count_op(r.genotype.reduce, "skip_connect")));
  f.set_attribute(group, "selected_epoch", r.selected_epoch);
  f.set_attribute(group, "test_loss", r.test_loss);
  f.set_attribute(group, "test_acc", r.test_acc);
  f.set_attribute(group, "seconds", r.seconds);
}

TrainResult read_train_results(const store::H5File& f, const std::string& group) {
  TrainResult r;
  r.genotype = genotype::parse_genotype(f.string_attribute(group, "genotype"), f.path() + ": " + group);
  r.genotype_origin = f.string_attribute(group, "genotype_origin");
  auto integer = [&](const char* key) { return static_cast<int64_t>(f.number_attribute(group, key)); };
  r.channels = integer("channels");
  r.cost = {integer("parameters"), integer("parameters_with_aux"), integer("multiply_adds")};
  r.selected_epoch = integer("selected_epoch");
  r.test_loss = f.number_attribute(group, "test_loss");
  r.test_acc = f.number_attribute(group, "test_acc");
  r.seconds = f.number_attribute(group, "seconds");
  if (f.exists(group + "/metrics/epoch")) {
    const auto epoch = doubles(f, group + "/metrics/epoch");
    r.epochs.resize(epoch.size());
    for (size_t e = 0; e < epoch.size(); ++e) r.epochs[e].epoch = static_cast<int64_t>(epoch[e]);
    for (const auto& [name, field] : metric_columns()) {
      const auto values = doubles(f, group + "/metrics/" + name);
      for (size_t e = 0; e < epoch.size(); ++e) r.epochs[e].*field = values.at(e);
    }
  }
  return r;
}

}  // namespace dnas::train
