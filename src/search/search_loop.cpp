#include "dnas/search/search_loop.h"

#include <torch/torch.h>

#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <optional>
#include <thread>

#include "dnas/comm/device.h"
#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/core/progress.h"
#include "dnas/core/run_start.h"
#include "dnas/core/signals.h"
#include "dnas/core/text_file.h"
#include "dnas/data/augment.h"
#include "dnas/data/batch_stream.h"
#include "dnas/data/dataset.h"
#include "dnas/data/split.h"
#include "dnas/search/search_checkpoint.h"
#include "dnas/search/search_results.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/search/strategy_factory.h"
#include "dnas/search/weight_trainer.h"

namespace dnas::search {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

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

// Sums batch statistics over the data-parallel group (identity for a single process).
BatchStats group_total(comm::ProcessGroup& group, const BatchStats& s) {
  if (group.size() == 1) return s;
  auto t = group.sum({s.loss_sum, static_cast<double>(s.correct), static_cast<double>(s.count)});
  return {t[0], static_cast<int64_t>(t[1]), static_cast<int64_t>(t[2])};
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

double cosine_lr(double lr0, double lr_min, int64_t epoch, int64_t epochs) {
  return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + std::cos(M_PI * epoch / epochs));
}

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

int available_cores() {
  int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = std::max(1, CPU_COUNT(&set));  // the task's cpuset
  if (const char* slurm = std::getenv("SLURM_CPUS_PER_TASK"); slurm != nullptr && std::atoi(slurm) > 0)
    n = std::min(n, std::atoi(slurm));
  return n;
}

int configure_threads(int64_t threads) {
  const int cores = available_cores();
  if (threads > cores)
    spdlog::warn("run.threads = {} but this process may use {} core(s): the threads will compete for them and run "
                 "much slower (0 uses the available cores)", threads, cores);
  const int n = threads > 0 ? static_cast<int>(threads) : cores;
  at::set_num_threads(n);
  return n;
}

SearchResult run_search(const SearchConfig& c, std::shared_ptr<comm::ProcessGroup> group_ptr) {
  validate(c);
  auto& group = *group_ptr;
  if (c.data.batch_size % group.size() != 0)
    fail(fmt::format("data.batch_size {} is not divisible by the {} ranks of the data-parallel group",
                     c.data.batch_size, group.size()),
         "data.batch_size", "use a multiple of study.ranks_per_experiment (the batch is the global one)");
  const bool leader = group.leader();
  const auto dir_lock = leader ? core::start_run_in(c.run.out_dir, "search", c.run.resume, c.run.overwrite,
                                                   c.run.write_config_file ? c.run.config_text : "")
                               : nullptr;  // held by the leader for the whole run
  const auto start = Clock::now();
  const int threads = configure_threads(c.run.threads);
  const torch::Device device = comm::select_device(c.run.device, "run.device");
  torch::manual_seed(c.run.seed);

  const std::string root = c.data.root.empty() ? data::default_data_root(c.data.dataset) : c.data.root;
  auto dataset = data::load_dataset(c.data.dataset, root);

  supernet::SupernetConfig net_cfg;
  net_cfg.device = device;
  net_cfg.in_channels = dataset.info.channels;
  net_cfg.classes = dataset.info.classes;
  net_cfg.channels = c.supernet.channels;
  net_cfg.layers = c.supernet.layers;
  net_cfg.steps = c.supernet.steps;
  net_cfg.stem_multiplier = c.supernet.stem_multiplier;
  net_cfg.normal_ops = normal_op_names(c);
  net_cfg.reduce_ops = reduce_op_names(c);
  supernet::Supernet net(net_cfg);
  auto strategy = make_strategy(c, net_cfg);
  // milenas.clip_arch_grads_like_code moves the clip from w to alpha (MilenasStrategy).
  const bool clip_alpha = c.run.method == "milenas" && c.milenas.clip_arch_grads_like_code;
  WeightTrainer weights(net, WeightOptions{c.optim.w_lr, c.optim.w_momentum, c.optim.w_weight_decay,
                                           clip_alpha ? 0.0 : c.optim.w_grad_clip, c.optim.w_nesterov}, group_ptr);

  data::SplitOptions split;
  split.fractions = {c.data.train_portion, 1.0 - c.data.train_portion};
  if (strategy->validation_splits() == 2) split.fractions = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  split.shuffle = c.data.split_shuffle;
  split.seed = c.run.seed;
  split.limit = c.data.limit;
  auto parts = data::split_indices(dataset.train.size(), split);
  std::optional<data::BatchStream> val_beta_stream;
  // A group drops the final short batch of its search streams: every shard of every step is
  // then the same size, and averaging shard gradients equals the gradient of the whole batch.
  const bool drop_last = group.size() > 1;
  if (parts.size() == 3)
    val_beta_stream.emplace(dataset.train, parts[2], c.data.batch_size, c.run.seed + 3, true, drop_last);
  data::BatchStream train_stream(dataset.train, parts[0], c.data.batch_size, c.run.seed, true, drop_last);
  data::BatchStream val_stream(dataset.train, parts[1], c.data.batch_size, c.run.seed + 1, true, drop_last);
  data::BatchStream eval_stream(dataset.train, parts[1], c.data.batch_size, c.run.seed + 2, false);
  for (auto* s : {&train_stream, &val_stream, &eval_stream}) s->set_shard(group.rank(), group.size());
  if (val_beta_stream) val_beta_stream->set_shard(group.rank(), group.size());
  data::AugmentOptions aug;
  aug.crop_padding = c.data.crop_padding;
  aug.flip = c.data.flip;
  aug.mean = dataset.info.mean;
  aug.std = dataset.info.std;

  SearchResult result;
  result.weight_parameters = supernet::count_parameters(*net);
  result.normal_ops = net_cfg.normal_ops;
  result.reduce_ops = net_cfg.reduce_ops;
  if (leader) std::filesystem::create_directories(c.run.out_dir);
  const std::string checkpoint_path = (std::filesystem::path(c.run.out_dir) / "checkpoint.h5").string();
  const SearchStreams streams{&train_stream, &val_stream, val_beta_stream ? &*val_beta_stream : nullptr};
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
      store::write_provenance(f, {"search", status, error, c.run.config_text});
      write_search_results(f, "/search", snapshot, c.run.method);
    });
  };
  spdlog::info("search: method {} on {} ({} train / {} val images), {} threads on {}, supernet L={} C={} "
               "steps={} ({} weights), seed {}{}",
               c.run.method, c.data.dataset, parts[0].size(0), parts[1].size(0), threads, device.str(),
               net_cfg.layers, net_cfg.channels, net_cfg.steps, result.weight_parameters, c.run.seed,
               group.size() > 1 ? fmt::format(", data-parallel over {} ranks", group.size()) : "");

  const int64_t per_epoch = c.optim.steps_per_epoch > 0
                                ? std::min(c.optim.steps_per_epoch, train_stream.batches_per_epoch())
                                : train_stream.batches_per_epoch();
  int64_t steps_this_run = 0;
  try {
    for (; strategy->trains_supernet() && state.epoch < c.optim.epochs; ++state.epoch) {
      const int64_t epoch = state.epoch;
      const auto epoch_start = Clock::now();
      EpochInfo info{epoch, c.optim.epochs, cosine_lr(c.optim.w_lr, c.optim.w_lr_min, epoch, c.optim.epochs)};
      weights.set_lr(info.w_lr);
      strategy->begin_epoch(info);
      train_stream.seek(epoch, state.step);
      core::Progress progress(fmt::format("epoch {}/{}", epoch + 1, c.optim.epochs), per_epoch,
                              c.run.log_period_s, c.run.progress);
      data::Batch tb;
      for (; state.step < per_epoch && train_stream.next(tb); ++state.step) {
        if (group.any(core::stop_requested() ||
                      (c.run.stop_after_steps > 0 && steps_this_run >= c.run.stop_after_steps))) {
          train_stream.seek(epoch, state.step);  // the batch just taken is the first one to run
          state.epoch_seconds_before += seconds_since(epoch_start);
          save();
          spdlog::warn("search: stop requested; checkpoint written at epoch {} step {} ({})", epoch + 1, state.step,
                       checkpoint_path);
          write_results("interrupted", "");
          throw core::Interrupted{};
        }
        StepBatches batches{prepare(tb, aug, true, device), prepare(val_stream.next_endless(), aug, true, device), {}};
        if (val_beta_stream) batches.val_beta = prepare(val_beta_stream->next_endless(), aug, true, device);
        auto r = strategy->step(weights, batches, info);
        r.train = group_total(group, r.train);
        r.val = group_total(group, r.val);
        if (!std::isfinite(r.train.loss_sum))
          fail_on_every_rank(fmt::format("training loss (weight step) is not finite at epoch {} step {}", epoch + 1,
                                         state.step),
                             "search." + c.run.method, "lower search.w_lr (or search.w_grad_clip), or check the data");
        if (!std::isfinite(r.val.loss_sum))
          fail_on_every_rank(fmt::format("validation loss (architecture step) is not finite at epoch {} step {}",
                                         epoch + 1, state.step),
                             "search." + c.run.method,
                             "lower search.arch_lr, or search.w_lr if the weights diverged first");
        state.train.add(r.train);
        state.search_val.add(r.val);
        ++steps_this_run;
        progress.update(state.step + 1, fmt::format("loss {:.3f} acc {:.1f}%", state.train.loss(),
                                                    100 * state.train.accuracy()));
      }
      progress.finish();
      strategy->end_epoch(info);
      if (group.size() > 1) {
        group.broadcast(net->buffers(), 0);  // BN running statistics saw only each rank's shards
        comm::check_identical(group, net->parameters(), fmt::format("supernet weights after epoch {}", epoch + 1));
        std::vector<torch::Tensor> arch;
        for (const auto& [name, t] : strategy->arch_tensors()) arch.push_back(t);
        comm::check_identical(group, arch, fmt::format("architecture parameters after epoch {}", epoch + 1));
      }
      auto eval = evaluate(net, strategy->inference_mix(), eval_stream, aug, c.optim.eval_batches, group);
      EpochRecord rec{epoch, info.w_lr, state.train.loss(), state.train.accuracy(),
                      state.search_val.accuracy(), eval.loss(), eval.accuracy(),
                      state.epoch_seconds_before + seconds_since(epoch_start), genotype::to_string(strategy->derive())};
      spdlog::info("epoch {}/{} lr {:.5f} | train loss {:.4f} acc {:.2f}% | val loss {:.4f} acc {:.2f}% | {:.1f}s",
                   epoch + 1, c.optim.epochs, rec.lr, rec.train_loss, 100 * rec.train_acc, rec.val_loss,
                   100 * rec.val_acc, rec.seconds);
      spdlog::info("epoch {} genotype: {}", epoch + 1, rec.genotype);
      for (const auto& [name, t] : strategy->arch_tensors())
        if (t.dim() == 2 && (name.rfind("alpha_", 0) == 0 || name.rfind("edge_logits_", 0) == 0))
          spdlog::info("epoch {} softmax({}):{}", epoch + 1, name, format_alpha(t));
      state.history.push_back(std::move(rec));
      std::vector<NamedTensor> arch;
      for (const auto& [name, t] : strategy->arch_tensors()) arch.emplace_back(name, t.detach().clone());
      state.arch_history.push_back(std::move(arch));
      state.step = 0;
      state.train = state.search_val = {};
      state.epoch_seconds_before = 0.0;
      ++state.epoch;  // the checkpoint resumes at the next epoch
      save();
      --state.epoch;
      write_results("running", "");
    }
    strategy->finish([&](const supernet::ArchMix& mix) {
      return evaluate(net, mix, eval_stream, aug, c.random.eval_batches, group).loss();
    });
  } catch (const std::exception& e) {
    write_results("failed", e.what());
    throw;
  }
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
