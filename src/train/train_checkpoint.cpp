#include "dnas/train/train_checkpoint.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>

#include "dnas/core/error.h"
#include "dnas/core/settings_diff.h"
#include "dnas/store/checkpoint_file.h"

namespace dnas::train {
namespace {

// History columns of TrainEpoch.
const std::vector<std::string> kColumns = {"epoch",     "lr",       "drop_path", "train_loss",
                                           "train_acc", "val_loss", "val_acc",   "seconds"};

std::vector<double> to_row(const TrainEpoch& e) {
  return {static_cast<double>(e.epoch), e.lr, e.drop_path, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.seconds};
}

TrainEpoch from_row(const std::vector<double>& r) {
  return {static_cast<int64_t>(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7]};
}

}  // namespace

std::string train_fingerprint(const TrainConfig& c, const genotype::Genotype& g) {
  return fmt::format(
      "genotype={} dataset={} limit={} val_portion={} batch={} C={} L={} aux={} stem={} epochs={} "
      "steps_per_epoch={} schedule={} lr={} seed={}",
      genotype::to_string(g), c.data.dataset, c.data.limit, c.data.val_portion, c.data.batch_size, c.model.channels,
      c.model.layers, c.model.auxiliary, c.model.stem, c.optim.epochs, c.optim.steps_per_epoch, c.optim.schedule,
      c.optim.lr, c.run.seed);
}

void save_train_checkpoint(const std::string& path, const TrainConfig& c, const genotype::Genotype& g,
                           const torch::nn::Module& net, torch::optim::SGD& sgd, const TrainProgress& p) {
  store::Checkpoint ck;
  ck.kind = "train";
  ck.text["fingerprint"] = train_fingerprint(c, g);
  ck.text["config"] = c.run.config_text;  // every result-changing setting, compared on resume
  ck.text["genotype"] = genotype::to_string(g);
  ck.numbers = {{"epoch", static_cast<double>(p.epoch)},
                {"step", static_cast<double>(p.step)},
                {"partial_loss_sum", p.partial.loss_sum},
                {"partial_correct", static_cast<double>(p.partial.correct)},
                {"partial_count", static_cast<double>(p.partial.count)},
                {"epoch_seconds_before", p.epoch_seconds_before},
                {"seconds", p.seconds},
                {"best_val_acc", p.best_val_acc},
                {"best_epoch", static_cast<double>(p.best_epoch)},
                {"finished", p.finished ? 1.0 : 0.0}};
  store::append_prefixed(ck.tensors, "model", store::module_state(net));
  store::append_prefixed(ck.tensors, "momentum", store::sgd_momentum_state(net, sgd));
  store::append_prefixed(ck.tensors, "best", p.best_weights);
  ck.tensors.emplace_back("grad_defined", store::defined_gradients(net));
  ck.tensors.emplace_back("rng/cpu", store::cpu_generator_state());
  store::append_device_generator_state(ck.tensors, net.parameters().front().device());
  auto table = torch::empty({static_cast<int64_t>(p.history.size()), static_cast<int64_t>(kColumns.size())},
                            torch::kFloat64);  // [epochs, columns]
  for (size_t i = 0; i < p.history.size(); ++i)
    table[static_cast<int64_t>(i)] = torch::tensor(to_row(p.history[i]), torch::kFloat64);
  ck.tensors.emplace_back("history", table);
  store::write_checkpoint(path, ck);
}

TrainProgress load_train_checkpoint(const std::string& path, const TrainConfig& c, const genotype::Genotype& g,
                                    torch::nn::Module& net, torch::optim::SGD& sgd) {
  if (!std::filesystem::exists(path))
    fail("no checkpoint to resume from", path, "run without --resume first, or point run.out_dir at the run to resume");
  auto ck = store::read_checkpoint(path, "train");
  // Every setting that changes results must match (the fingerprint covers the older checkpoints).
  if (ck.text.count("config") && !ck.text.at("config").empty() && !c.run.config_text.empty()) {
    const auto diff = core::first_setting_difference(ck.text.at("config"), c.run.config_text);
    if (!diff.empty())
      fail("the checkpoint was written with other settings (" + diff + ")", path,
           "resume with the original settings (RUN/config.ini), or start afresh with --overwrite");
  }
  const auto expected = train_fingerprint(c, g);
  if (ck.string("fingerprint") != expected)
    fail("checkpoint was written by a run with other settings:\n  checkpoint: " + ck.string("fingerprint") +
             "\n  this run:   " + expected,
         path, "resume with the original settings, or use another run.out_dir");
  store::load_module_state(net, store::with_prefix(ck.tensors, "model"), path);
  store::load_sgd_momentum_state(net, sgd, store::with_prefix(ck.tensors, "momentum"), path);
  store::restore_defined_gradients(net, ck.tensor("grad_defined"), path);
  store::restore_cpu_generator_state(ck.tensor("rng/cpu"));
  store::restore_device_generator_state(ck.tensors, net.parameters().front().device(), path);
  TrainProgress p;
  p.epoch = static_cast<int64_t>(ck.number("epoch"));
  p.step = static_cast<int64_t>(ck.number("step"));
  p.partial.loss_sum = ck.number("partial_loss_sum");
  p.partial.correct = static_cast<int64_t>(ck.number("partial_correct"));
  p.partial.count = static_cast<int64_t>(ck.number("partial_count"));
  p.epoch_seconds_before = ck.number("epoch_seconds_before");
  p.seconds_before = ck.number("seconds");
  p.best_val_acc = ck.number("best_val_acc");
  p.best_epoch = static_cast<int64_t>(ck.number("best_epoch"));
  p.finished = ck.number("finished") != 0.0;
  p.best_weights = store::with_prefix(ck.tensors, "best");
  auto table = ck.tensor("history").to(torch::kFloat64).contiguous();  // [epochs, columns]
  if (table.dim() != 2 || table.size(1) != static_cast<int64_t>(kColumns.size()))
    fail("history table has the wrong shape", path, "the checkpoint is damaged or from another version");
  for (int64_t i = 0; i < table.size(0); ++i) {
    auto row = table[i];
    p.history.push_back(from_row(std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + row.numel())));
  }
  return p;
}

}  // namespace dnas::train
