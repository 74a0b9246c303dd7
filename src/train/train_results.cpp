#include "dnas/train/train_results.h"

#include <torch/torch.h>

namespace dnas::train {

void write_train_results(store::H5File& f, const std::string& group, const TrainResult& r) {
  const std::vector<std::pair<std::string, double TrainEpoch::*>> columns = {
      {"lr", &TrainEpoch::lr},           {"drop_path", &TrainEpoch::drop_path}, {"train_loss", &TrainEpoch::train_loss},
      {"train_acc", &TrainEpoch::train_acc}, {"val_loss", &TrainEpoch::val_loss}, {"val_acc", &TrainEpoch::val_acc},
      {"seconds", &TrainEpoch::seconds}};
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

}  // namespace dnas::train
