#include "dnas/search/search_loop.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/core/progress.h"
#include "dnas/core/text_file.h"
#include "dnas/data/augment.h"
#include "dnas/data/batch_stream.h"
#include "dnas/data/dataset.h"
#include "dnas/data/split.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/loop/run_start.h"
#include "dnas/loop/schedule.h"
#include "dnas/search/search_checkpoint.h"
#include "dnas/search/search_results.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"
#include "dnas/search/strategy_factory.h"
#include "dnas/search/weight_trainer.h"

namespace dnas::search {
namespace {

using loop::Clock;
using loop::group_total;
using loop::seconds_since;

// Softmax rows of an [E, O] alpha as text, one edge per line.
std::string format_alpha(const torch::Tensor& alpha) {
  auto p = torch::softmax(alpha.detach(), -1);
  std::string out;
  for (int64_t e = 0; e < p.size(0); ++e) {
    out += "\n    e" + std::to_string(e) + ":";
    for (int64_t o = 0; o < p.size(1); ++o) out += fmt::format(" {:.3f}", p[e][o].item<double>());
  }
  return out;
}

// Augmented on the CPU (the same images for a seed on every device), then moved.
TensorBatch prepare(const data::Batch& b, const data::AugmentOptions& aug, bool train, torch::Device device) {
  return {data::augment_batch(b.images, aug, train, b.key, b.first_index).to(device), b.labels.to(device)};
}

torch::Device net_device(supernet::Supernet& net) { return net->parameters().front().device(); }

// Loss/accuracy of the supernet on up to `max_batches` batches of `stream` (eval mode), each
// rank of the group evaluating its shard of every batch.
BatchStats evaluate(supernet::Supernet& net, const supernet::ArchMix& mix, data::BatchStream& stream,
                    const data::AugmentOptions& aug, int64_t max_batches, comm::ProcessGroup& group) {
  torch::NoGradGuard no_grad;
  net->eval();
  BatchStats total;
  stream.start_epoch(0);
  data::Batch b;
  for (int64_t i = 0; (max_batches == 0 || i < max_batches) && stream.next(b); ++i) {
    if (b.labels.size(0) == 0) continue;  // a final batch smaller than the group
    auto t = prepare(b, aug, /*train=*/false, net_device(net));
    auto logits = net->forward(t.x, mix);
    total.add(batch_stats(logits, t.y, torch::cross_entropy_loss(logits, t.y).item<double>()));
  }
  net->train();
  return group_total(group, total);
}

void log_epoch(const EpochRecord& rec, int64_t epochs, const std::vector<NamedTensor>& arch) {
  spdlog::info("epoch {}/{} lr {:.5f} | train loss {:.4f} acc {:.2f}% | val loss {:.4f} acc {:.2f}% | {:.1f}s",
               rec.epoch + 1, epochs, rec.lr, rec.train_loss, 100 * rec.train_acc, rec.val_loss, 100 * rec.val_acc,
               rec.seconds);
  spdlog::info("epoch {} genotype: {}", rec.epoch + 1, rec.genotype);
  for (const auto& [name, t] : arch)
    if (t.dim() == 2 && (name.rfind("alpha_", 0) == 0 || name.rfind("edge_logits_", 0) == 0))
      spdlog::info("epoch {} softmax({}):{}", rec.epoch + 1, name, format_alpha(t));
}

// D_train / D_val (/ D_val_beta for a method with two validation splits) of the training set.
std::vector<torch::Tensor> search_splits(const SearchConfig& c, int64_t images, int validation_splits) {
  data::SplitOptions split;
  split.fractions = {c.data.train_portion, 1.0 - c.data.train_portion};
  if (validation_splits == 2) split.fractions = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  split.shuffle = c.data.split_shuffle;
  split.seed = c.run.seed;
  split.limit = c.data.limit;
  return data::split_indices(images, split);
}

// The search's batch streams over its splits, each rank of the group taking its shard. A group
// drops the final short batch of its search streams: every shard of every step is then the
// same size, and averaging shard gradients equals the gradient of the whole batch.
struct SearchData {
  SearchData(const SearchConfig& c, const data::Dataset& dataset, int validation_splits, comm::ProcessGroup& group)
      : parts(search_splits(c, dataset.train.size(), validation_splits)),
        train(dataset.train, parts[0], c.data.batch_size, c.run.seed, true, group.size() > 1),
        val(dataset.train, parts[1], c.data.batch_size, c.run.seed + 1, true, group.size() > 1),
        eval(dataset.train, parts[1], c.data.batch_size, c.run.seed + 2, false) {
    if (parts.size() == 3)
      val_beta.emplace(dataset.train, parts[2], c.data.batch_size, c.run.seed + 3, true, group.size() > 1);
    for (auto* s : {&train, &val, &eval}) s->set_shard(group.rank(), group.size());
    if (val_beta) val_beta->set_shard(group.rank(), group.size());
    aug.crop_padding = c.data.crop_padding;
    aug.flip = c.data.flip;
    aug.mean = dataset.info.mean;
    aug.std = dataset.info.std;
  }
  SearchStreams streams() { return {&train, &val, val_beta ? &*val_beta : nullptr}; }

  std::vector<torch::Tensor> parts;
  data::BatchStream train, val, eval;
  std::optional<data::BatchStream> val_beta;
  data::AugmentOptions aug;
};

void write_outputs(const SearchConfig& c, const SearchResult& r) {
  const auto dir = std::filesystem::path(c.run.out_dir);
  core::write_text_atomically((dir / "genotype.txt").string(), genotype::to_string(r.genotype) + "\n");
  std::string csv = "epoch,lr,train_loss,train_acc,search_val_acc,val_loss,val_acc,seconds,genotype\n";
  for (const auto& e : r.epochs)
    csv += fmt::format("{},{:.6g},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f},\"{}\"\n", e.epoch, e.lr, e.train_loss,
                       e.train_acc, e.search_val_acc, e.val_loss, e.val_acc, e.seconds, e.genotype);
  core::write_text_atomically((dir / "metrics.csv").string(), csv);
}

}  // namespace

std::string format_results_table(const SearchResult& r) {
  std::string out = "| epoch | lr | train loss | train acc % | search val acc % | val loss | val acc % | s |\n"
                    "|---|---|---|---|---|---|---|---|\n";
  for (const auto& e : r.epochs)
    out += fmt::format("| {} | {:.4f} | {:.4f} | {:.2f} | {:.2f} | {:.4f} | {:.2f} | {:.1f} |\n", e.epoch + 1,
                       e.lr, e.train_loss, 100 * e.train_acc, 100 * e.search_val_acc, e.val_loss,
                       100 * e.val_acc, e.seconds);
  out += fmt::format("\nsupernet weights: {}   search time: {}\ngenotype: {}\n", r.weight_parameters,
                     core::Progress::format_duration(r.seconds), genotype::to_string(r.genotype));
  return out;
}

SearchResult run_search(const SearchConfig& c, std::shared_ptr<comm::ProcessGroup> group_ptr) {
  validate(c);
  auto& group = *group_ptr;
  const bool leader = group.leader();
  const auto run = loop::start_run(c.run, "search", c.data.batch_size, group);
  const auto start = run.start;
  const int threads = run.threads;
  const torch::Device device = run.device;

  const std::string root = c.data.root.empty() ? data::default_data_root(c.data.dataset) : c.data.root;
  auto dataset = data::load_dataset(c.data.dataset, root);

  const auto net_cfg = supernet_config(c, dataset.info, device);
  supernet::Supernet net(net_cfg);
  auto strategy = make_strategy(c, net_cfg);
  // milenas.clip_arch_grads_like_code moves the clip from w to alpha (MilenasStrategy).
  const bool clip_alpha = c.run.method == "milenas" && c.milenas.clip_arch_grads_like_code;
  WeightTrainer weights(net, WeightOptions{c.optim.w_lr, c.optim.w_momentum, c.optim.w_weight_decay,
                                           clip_alpha ? 0.0 : c.optim.w_grad_clip, c.optim.w_nesterov}, group_ptr);
  SearchData d(c, dataset, strategy->needs().validation_splits, group);
  const auto& aug = d.aug;

  SearchResult result;
  result.weight_parameters = supernet::count_parameters(*net);
  result.normal_ops = net_cfg.normal_ops;
  result.reduce_ops = net_cfg.reduce_ops;
  if (leader) std::filesystem::create_directories(c.run.out_dir);
  const std::string checkpoint_path = (std::filesystem::path(c.run.out_dir) / "checkpoint.h5").string();
  const SearchStreams streams = d.streams();
  SearchProgress state;
  if (c.run.resume) {
    state = load_search_checkpoint(checkpoint_path, c, weights, *strategy, streams);
    spdlog::info("search: resumed from {} at epoch {} step {}", checkpoint_path, state.epoch + 1, state.step);
  }
  auto elapsed = [&] { return state.seconds_before + seconds_since(start); };
  // Only the group's leader writes files; the other ranks hold identical state.
  auto save = [&] {
    state.seconds = elapsed();
    if (leader) save_search_checkpoint(checkpoint_path, c, weights, *strategy, streams, state);
  };
  // results.h5: rewritten (atomically) at every epoch end and when the run ends, however it ends.
  auto write_results = [&](const std::string& status, const std::string& error, double seconds = -1) {
    if (!leader) return;
    SearchResult snapshot = result;
    snapshot.epochs = state.history;
    snapshot.arch_history = state.arch_history;
    try {
      snapshot.genotype = strategy->derive();
    } catch (const std::exception&) {
      if (status != "failed") throw;  // a failed run (e.g. non-finite α) is recorded without its genotype
    }
    snapshot.seconds = seconds >= 0 ? seconds : elapsed();
    store::write_atomically((std::filesystem::path(c.run.out_dir) / "results.h5").string(), [&](store::H5File& f) {
      store::write_provenance(f, {store::layout::provenance::kKindSearch, status, error, c.run.config_text});
      write_search_results(f, store::layout::search::kGroup, snapshot, c.run.method);
    });
  };
  spdlog::info("search: method {} on {} ({} train / {} val images), {} threads on {}, supernet L={} C={} "
               "steps={} ({} weights), seed {}{}",
               c.run.method, c.data.dataset, d.parts[0].size(0), d.parts[1].size(0), threads, device.str(),
               net_cfg.layers, net_cfg.channels, net_cfg.steps, result.weight_parameters, c.run.seed,
               group.size() > 1 ? fmt::format(", data-parallel over {} ranks", group.size()) : "");

  // The epoch loop supplies the stop agreement, checkpoints, results status and epoch-end sync.
  EpochInfo info;
  auto epochs = loop::epoch_loop("search", strategy->needs().trains_supernet ? c.optim.epochs : 0,
                                 c.optim.steps_per_epoch, d.train, group, c.run, checkpoint_path);
  epochs.train_loss_error = {"training loss (weight step)", "search." + c.run.method,
                             "lower search.w_lr (or search.w_grad_clip), or check the data"};
  epochs.val_loss_error = {"validation loss (architecture step)", "search." + c.run.method,
                           "lower search.arch_lr, or search.w_lr if the weights diverged first"};
  epochs.train_sum = &state.train;
  epochs.val_sum = &state.search_val;
  epochs.begin_epoch = [&](int64_t epoch) {
    info = EpochInfo{epoch, c.optim.epochs, loop::cosine_lr(c.optim.w_lr, c.optim.w_lr_min, epoch, c.optim.epochs)};
    weights.set_lr(info.w_lr);
    strategy->begin_epoch(info);
  };
  epochs.step = [&](const data::Batch& tb) {
    StepBatches batches{prepare(tb, aug, true, device), prepare(d.val.next_endless(), aug, true, device), {}};
    if (d.val_beta) batches.val_beta = prepare(d.val_beta->next_endless(), aug, true, device);
    auto r = strategy->step(weights, batches, info);
    return loop::StepStats{r.train, r.val};
  };
  epochs.after_steps = [&] { strategy->end_epoch(info); };
  epochs.buffers = [&] { return net->buffers(); };
  epochs.replicas = [&] {
    std::vector<torch::Tensor> arch;
    for (const auto& [name, t] : strategy->arch_tensors()) arch.push_back(t);
    return std::vector<loop::Replica>{{"supernet weights", net->parameters()}, {"architecture parameters", arch}};
  };
  epochs.end_epoch = [&](int64_t epoch, const std::function<double()>& epoch_seconds) {
    auto eval = evaluate(net, strategy->inference_mix(), d.eval, aug, c.optim.eval_batches, group);
    EpochRecord rec{epoch, info.w_lr, state.train.loss(), state.train.accuracy(), state.search_val.accuracy(),
                    eval.loss(), eval.accuracy(), epoch_seconds(), genotype::to_string(strategy->derive())};
    log_epoch(rec, c.optim.epochs, strategy->arch_tensors());
    state.history.push_back(std::move(rec));
    std::vector<NamedTensor> arch;
    for (const auto& [name, t] : strategy->arch_tensors()) arch.emplace_back(name, t.detach().clone());
    state.arch_history.push_back(std::move(arch));
  };
  epochs.save = save;
  epochs.write_results = [&](const std::string& status, const std::string& error) { write_results(status, error); };
  loop::recording_failure(epochs.write_results, [&] {
    loop::run_epochs(epochs, state);
    strategy->finish([&](const supernet::ArchMix& mix) {
      return evaluate(net, mix, d.eval, aug, c.random.eval_batches, group).loss();
    });
  });
  result.epochs = state.history;
  result.arch_history = state.arch_history;
  result.genotype = strategy->derive();
  result.seconds = elapsed();
  if (leader) write_outputs(c, result);
  write_results("finished", "", result.seconds);  // the file records what this call returns
  spdlog::info("search finished in {}: {}", core::Progress::format_duration(result.seconds),
               genotype::to_string(result.genotype));
  return result;
}

}  // namespace dnas::search
