#include "dnas/search/search_checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <filesystem>

#include "dnas/core/error.h"
#include "dnas/core/settings_diff.h"
#include "dnas/store/checkpoint_file.h"
#include "dnas/store/module_state.h"

namespace dnas::search {
namespace {

constexpr int64_t kColumns = 8;  // epoch, lr, train loss/acc, search val acc, val loss/acc, seconds

std::vector<double> to_row(const EpochRecord& e) {
  return {static_cast<double>(e.epoch),
          e.lr,
          e.train_loss,
          e.train_acc,
          e.search_val_acc,
          e.val_loss,
          e.val_acc,
          e.seconds};
}

EpochRecord from_row(const double* r) {
  EpochRecord e;
  e.epoch = static_cast<int64_t>(r[0]);
  e.lr = r[1];
  e.train_loss = r[2];
  e.train_acc = r[3];
  e.search_val_acc = r[4];
  e.val_loss = r[5];
  e.val_acc = r[6];
  e.seconds = r[7];
  return e;
}

void put_stats(store::Checkpoint& ck, const std::string& name, const BatchStats& s) {
  ck.numbers[name + ".loss_sum"] = s.loss_sum;
  ck.numbers[name + ".correct"] = static_cast<double>(s.correct);
  ck.numbers[name + ".count"] = static_cast<double>(s.count);
}

BatchStats get_stats(const store::Checkpoint& ck, const std::string& name) {
  BatchStats s;
  s.loss_sum = ck.number(name + ".loss_sum");
  s.correct = static_cast<int64_t>(ck.number(name + ".correct"));
  s.count = static_cast<int64_t>(ck.number(name + ".count"));
  return s;
}

void put_stream(store::Checkpoint& ck, const std::string& name, const data::BatchStream* s) {
  if (!s) return;
  ck.numbers["stream." + name + ".epoch"] = static_cast<double>(s->epoch());
  ck.numbers["stream." + name + ".position"] = static_cast<double>(s->position());
}

void get_stream(const store::Checkpoint& ck, const std::string& name, data::BatchStream* s) {
  if (!s) return;
  s->seek(static_cast<int64_t>(ck.number("stream." + name + ".epoch")),
          static_cast<int64_t>(ck.number("stream." + name + ".position")));
}

}  // namespace

std::string search_fingerprint(const SearchConfig& c) {
  return fmt::format(
      "method={} dataset={} limit={} portion={} shuffle={} batch={} C={} L={} steps={} normal=[{}] "
      "reduce=[{}] epochs={} steps_per_epoch={} w_lr={} seed={}",
      c.run.method, c.data.dataset, c.data.limit, c.data.train_portion, c.data.split_shuffle, c.data.batch_size,
      c.supernet.channels, c.supernet.layers, c.supernet.steps, fmt::join(normal_op_names(c), " "),
      fmt::join(reduce_op_names(c), " "), c.optim.epochs, c.optim.steps_per_epoch, c.optim.w_lr, c.run.seed);
}

void save_search_checkpoint(const std::string& path, const SearchConfig& c, WeightTrainer& w, SearchStrategy& strategy,
                            const SearchStreams& streams, const SearchProgress& p) {
  store::Checkpoint ck;
  ck.kind = "search";
  ck.text["fingerprint"] = search_fingerprint(c);
  ck.text["config"] = c.run.config_text;  // every result-changing setting, compared on resume
  ck.text["method"] = c.run.method;
  ck.numbers = {{"epoch", static_cast<double>(p.epoch)},
                {"step", static_cast<double>(p.step)},
                {"epoch_seconds_before", p.epoch_seconds_before},
                {"seconds", p.seconds}};
  put_stats(ck, "train", p.train);
  put_stats(ck, "search_val", p.search_val);
  put_stream(ck, "val", streams.val);
  put_stream(ck, "val_beta", streams.val_beta);
  store::append_prefixed(ck.tensors, "model", store::module_state(*w.net));
  store::append_prefixed(ck.tensors, "momentum", store::sgd_momentum_state(*w.net, w.optimizer));
  ck.tensors.emplace_back("grad_defined", store::defined_gradients(*w.net));
  store::append_prefixed(ck.tensors, "method", strategy.state());
  ck.tensors.emplace_back("rng/cpu", store::cpu_generator_state());
  store::append_device_generator_state(ck.tensors, w.net->parameters().front().device());
  auto table = torch::empty({static_cast<int64_t>(p.history.size()), kColumns}, torch::kFloat64);
  for (size_t i = 0; i < p.history.size(); ++i) {
    table[static_cast<int64_t>(i)] = torch::tensor(to_row(p.history[i]), torch::kFloat64);
    ck.text["genotype." + std::to_string(i)] = p.history[i].genotype;
  }
  ck.tensors.emplace_back("history", table);
  // Architecture tensors per epoch, stacked by name: "arch_history/<name>" [epochs, ...]
  // (epochs restored from a checkpoint list their names in the file's order).
  if (!p.arch_history.empty())
    for (const auto& [name, first] : p.arch_history.front()) {
      std::vector<torch::Tensor> rows;
      for (const auto& epoch : p.arch_history) rows.push_back(find_state(epoch, name));
      ck.tensors.emplace_back("arch_history/" + name, torch::stack(rows));
    }
  store::write_checkpoint(path, ck);
}

SearchProgress load_search_checkpoint(const std::string& path, const SearchConfig& c, WeightTrainer& w,
                                      SearchStrategy& strategy, const SearchStreams& streams) {
  if (!std::filesystem::exists(path))
    fail("no checkpoint to resume from", path, "run without --resume first, or point run.out_dir at the run to resume");
  auto ck = store::read_checkpoint(path, "search");
  // Every setting that changes results must match (the fingerprint covers the older checkpoints).
  if (ck.text.count("config") && !ck.text.at("config").empty() && !c.run.config_text.empty()) {
    const auto diff = core::first_setting_difference(ck.text.at("config"), c.run.config_text);
    if (!diff.empty())
      fail("the checkpoint was written with other settings (" + diff + ")", path,
           "resume with the original settings (RUN/config.ini), or start afresh with --overwrite");
  }
  const auto expected = search_fingerprint(c);
  if (ck.string("fingerprint") != expected)
    fail("checkpoint was written by a search with other settings:\n  checkpoint: " + ck.string("fingerprint") +
             "\n  this run:   " + expected,
         path, "resume with the original settings, or use another run.out_dir");
  store::load_module_state(*w.net, store::with_prefix(ck.tensors, "model"), path);
  store::load_sgd_momentum_state(*w.net, w.optimizer, store::with_prefix(ck.tensors, "momentum"), path);
  store::restore_defined_gradients(*w.net, ck.tensor("grad_defined"), path);
  strategy.load_state(store::with_prefix(ck.tensors, "method"));
  store::restore_cpu_generator_state(ck.tensor("rng/cpu"));
  store::restore_device_generator_state(ck.tensors, w.net->parameters().front().device(), path);
  get_stream(ck, "val", streams.val);
  get_stream(ck, "val_beta", streams.val_beta);
  SearchProgress p;
  p.epoch = static_cast<int64_t>(ck.number("epoch"));
  p.step = static_cast<int64_t>(ck.number("step"));
  p.epoch_seconds_before = ck.number("epoch_seconds_before");
  p.seconds_before = ck.number("seconds");
  p.train = get_stats(ck, "train");
  p.search_val = get_stats(ck, "search_val");
  auto table = ck.tensor("history").to(torch::kFloat64).contiguous();  // [epochs, columns]
  if (table.dim() != 2 || table.size(1) != kColumns)
    fail("history table has the wrong shape", path, "the checkpoint is damaged or from another version");
  for (int64_t i = 0; i < table.size(0); ++i) {
    p.history.push_back(from_row(table[i].data_ptr<double>()));
    p.history.back().genotype = ck.string("genotype." + std::to_string(i));
  }
  p.arch_history.resize(p.history.size());
  for (const auto& [name, stacked] : store::with_prefix(ck.tensors, "arch_history")) {
    if (stacked.size(0) != static_cast<int64_t>(p.history.size()))
      fail("architecture history '" + name + "' does not match the epochs", path, "the checkpoint is damaged");
    for (int64_t e = 0; e < stacked.size(0); ++e)
      p.arch_history[static_cast<size_t>(e)].emplace_back(name, stacked[e].clone());
  }
  return p;
}

}  // namespace dnas::search
