#include "dnas/train/trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "dnas/core/error.h"
#include "dnas/core/progress.h"
#include "dnas/core/text_file.h"
#include "dnas/data/augment.h"
#include "dnas/data/batch_stream.h"
#include "dnas/data/dataset.h"
#include "dnas/data/split.h"
#include "dnas/eval/drop_path.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/loop/run_start.h"
#include "dnas/train/genotype_source.h"
#include "dnas/train/losses.h"
#include "dnas/train/lr_schedule.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"
#include "dnas/train/train_checkpoint.h"
#include "dnas/train/train_results.h"

namespace dnas::train {
namespace {

using loop::Clock;
using loop::group_total;
using loop::seconds_since;

// Loss/accuracy of `net` (eval mode) over a whole stream, each rank taking its shard.
loop::BatchStats evaluate(eval::EvalNetwork& net, data::BatchStream& stream, const data::AugmentOptions& aug,
                            comm::ProcessGroup& group) {
  torch::NoGradGuard no_grad;
  net->eval();
  loop::BatchStats total;
  stream.start_epoch(0);
  data::Batch b;
  while (stream.next(b)) {
    if (b.labels.size(0) == 0) continue;  // a final batch smaller than the group
    const auto device = net->parameters().front().device();
    auto logits = net->forward(data::augment_batch(b.images, aug, false, b.key, b.first_index).to(device)).logits;
    auto labels = b.labels.to(device);
    total.add(loop::batch_stats(logits, labels, torch::cross_entropy_loss(logits, labels).item<double>()));
  }
  net->train();
  return group_total(group, total);
}

// The retrain's batch streams: the training split (each rank of the group takes its shard; a
// group drops the final short batch so that every shard of every step has the same size), the
// held-out validation split when data.val_portion > 0, and the test set.
struct RetrainStreams {
  RetrainStreams(const TrainConfig& c, const data::Dataset& dataset, comm::ProcessGroup& group)
      : parts(train_splits(c, dataset.train.size())),
        n_test(c.data.test_limit > 0 ? std::min(c.data.test_limit, dataset.test.size()) : dataset.test.size()),
        train(dataset.train, parts[0], c.data.batch_size, c.run.seed, /*shuffle=*/true, /*drop_last=*/group.size() > 1),
        test(dataset.test, torch::arange(n_test), c.data.batch_size, c.run.seed + 2, false) {
    if (parts.size() > 1) val.emplace(dataset.train, parts[1], c.data.batch_size, c.run.seed + 1, false);
    train.set_shard(group.rank(), group.size());
    test.set_shard(group.rank(), group.size());
    if (val) val->set_shard(group.rank(), group.size());
    aug.crop_padding = c.data.crop_padding;
    aug.flip = c.data.flip;
    aug.cutout = c.data.cutout;
    aug.mean = dataset.info.mean;
    aug.std = dataset.info.std;
  }

  static std::vector<torch::Tensor> train_splits(const TrainConfig& c, int64_t images) {
    data::SplitOptions split;
    split.fractions = c.data.val_portion > 0 ? std::vector<double>{1.0 - c.data.val_portion, c.data.val_portion}
                                              : std::vector<double>{1.0};
    split.shuffle = c.data.val_portion > 0;
    split.seed = c.run.seed;
    split.limit = c.data.limit;
    return data::split_indices(images, split);
  }

  std::vector<torch::Tensor> parts;
  int64_t n_test;
  data::BatchStream train;
  std::optional<data::BatchStream> val;
  data::BatchStream test;
  data::AugmentOptions aug;
};

std::string metrics_csv(const std::vector<TrainEpoch>& epochs) {
  std::string s = "epoch,lr,drop_path,train_loss,train_acc,val_loss,val_acc,seconds\n";
  for (const auto& e : epochs)
    s += fmt::format("{},{:.6g},{:.4f},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f}\n", e.epoch, e.lr, e.drop_path,
                     e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.seconds);
  return s;
}

std::string result_text(const TrainResult& r, const TrainConfig& c) {
  return fmt::format(
      "genotype: {}\norigin: {}\nparameters: {}\nparameters_with_aux: {}\nmultiply_adds: {}\nselect: {}\n"
      "selected_epoch: {}\ntest_loss: {:.6f}\ntest_acc: {:.6f}\nseconds: {:.1f}\n",
      genotype::to_string(r.genotype), r.genotype_origin, r.cost.parameters, r.cost.parameters_with_aux,
      r.cost.multiply_adds, c.optim.select, r.selected_epoch + 1, r.test_loss, r.test_acc, r.seconds);
}

}  // namespace

std::string format_train_table(const TrainResult& r) {
  std::string out = "| epoch | lr | drop-path | train loss | train acc % | val acc % | s |\n|---|---|---|---|---|---|---|\n";
  for (const auto& e : r.epochs)
    out += fmt::format("| {} | {:.4f} | {:.3f} | {:.4f} | {:.2f} | {:.2f} | {:.1f} |\n", e.epoch + 1, e.lr,
                       e.drop_path, e.train_loss, 100 * e.train_acc, 100 * e.val_acc, e.seconds);
  out += fmt::format("\ntest accuracy: {:.2f}% (epoch {})   params: {:.3f}M (+aux {:.3f}M)   "
                     "multiply-adds: {:.1f}M   time: {}\ngenotype: {}\n",
                     100 * r.test_acc, r.selected_epoch + 1, r.cost.parameters / 1e6,
                     (r.cost.parameters_with_aux - r.cost.parameters) / 1e6, r.cost.multiply_adds / 1e6,
                     core::Progress::format_duration(r.seconds), genotype::to_string(r.genotype));
  return out;
}

TrainResult run_training(const TrainConfig& c, std::shared_ptr<comm::ProcessGroup> group_ptr) {
  validate(c);
  auto& group = *group_ptr;
  const bool leader = group.leader();
  const auto run = loop::start_run(c.run, "train", c.data.batch_size, group);
  const auto start = run.start;
  const int threads = run.threads;
  const torch::Device device = run.device;
  auto resolved = resolve_genotype(c.model.genotype, "model.genotype", c.model.genotype_epoch);

  const std::string root = c.data.root.empty() ? data::default_data_root(c.data.dataset) : c.data.root;
  auto dataset = data::load_dataset(c.data.dataset, root);
  RetrainStreams d(c, dataset, group);
  const auto& aug = d.aug;

  eval::EvalNetworkConfig net_cfg;
  net_cfg.in_channels = dataset.info.channels;
  net_cfg.classes = dataset.info.classes;
  net_cfg.channels = c.model.channels;
  net_cfg.layers = c.model.layers;
  net_cfg.auxiliary = c.model.auxiliary;
  net_cfg.stem = c.model.stem;
  net_cfg.channels_last = c.model.channels_last;
  if (c.model.target_params > 0) {
    net_cfg.channels = eval::channels_for_parameters(resolved.genotype, net_cfg,
                                                     static_cast<int64_t>(std::llround(c.model.target_params * 1e6)));
    spdlog::info("train: C = {} gives the parameter count nearest model.target_params = {}M", net_cfg.channels,
                 c.model.target_params);
    torch::manual_seed(c.run.seed);  // the probe networks drew from the generator: same weights as model.channels = C
  }
  eval::EvalNetwork net(resolved.genotype, net_cfg);
  net->to(device);  // initialised on the CPU: the same weights for a seed on every device
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(c.optim.lr)
                                               .momentum(c.optim.momentum)
                                               .weight_decay(c.optim.weight_decay));

  TrainResult result;
  result.genotype = resolved.genotype;
  result.genotype_origin = resolved.origin;
  result.channels = net_cfg.channels;
  result.cost = eval::network_cost(resolved.genotype, net_cfg, dataset.info.height, dataset.info.width);

  if (leader) std::filesystem::create_directories(c.run.out_dir);
  const std::string checkpoint_path = (std::filesystem::path(c.run.out_dir) / "checkpoint.h5").string();
  TrainProgress state;
  if (c.run.resume) {
    state = load_train_checkpoint(checkpoint_path, c, resolved.genotype, *net, sgd);
    spdlog::info("train: resumed from {} at epoch {} step {}", checkpoint_path, state.epoch + 1, state.step);
  }
  auto elapsed = [&] { return state.seconds_before + seconds_since(start); };
  auto save = [&] {
    state.seconds = elapsed();
    if (leader) save_train_checkpoint(checkpoint_path, c, resolved.genotype, *net, sgd, state);
  };
  // results.h5: rewritten (atomically) at every epoch end and when the run ends, however it ends.
  auto write_results = [&](const std::string& status, const std::string& error) {
    if (!leader) return;
    TrainResult snapshot = result;
    if (status != "finished") snapshot.epochs = state.history;
    snapshot.seconds = elapsed();
    store::write_atomically((std::filesystem::path(c.run.out_dir) / "results.h5").string(), [&](store::H5File& f) {
      store::write_provenance(f, {store::layout::provenance::kKindTrain, status, error, c.run.config_text});
      write_train_results(f, store::layout::train::kGroup, snapshot);
    });
  };
  spdlog::info("train: {} on {} ({} train / {} val / {} test images), {} threads on {}, C={} L={}, {:.3f}M params, "
               "{:.1f}M multiply-adds, seed {}",
               resolved.origin, c.data.dataset, d.parts[0].size(0), d.parts.size() > 1 ? d.parts[1].size(0) : 0,
               d.n_test, threads, device.str(), net_cfg.channels, c.model.layers, result.cost.parameters / 1e6,
               result.cost.multiply_adds / 1e6, c.run.seed);

  // The epoch loop supplies the stop agreement, checkpoints, results status and epoch-end sync.
  TrainEpoch rec;
  auto epochs = loop::epoch_loop("train", c.optim.epochs, c.optim.steps_per_epoch, d.train, group, c.run,
                                 checkpoint_path);
  epochs.train_loss_error = {"training loss", c.run.out_dir, "lower train.lr or check the data"};
  epochs.train_sum = &state.partial;
  epochs.begin_epoch = [&](int64_t epoch) {
    rec = TrainEpoch{};
    rec.epoch = epoch;
    rec.lr = learning_rate(c.optim, epoch);
    rec.drop_path = eval::drop_path_rate(c.model.drop_path, epoch, c.optim.epochs);
    for (auto& param_group : sgd.param_groups())
      static_cast<torch::optim::SGDOptions&>(param_group.options()).lr(rec.lr);
    net->set_drop_path_prob(rec.drop_path);
  };
  epochs.step = [&](const data::Batch& b) {
    // Augmented on the CPU (the same images for a seed on every device), then moved.
    auto x = data::augment_batch(b.images, aug, /*train=*/true, b.key, b.first_index).to(device);
    auto y = b.labels.to(device);
    auto out = net->forward(x);
    auto loss = smoothed_cross_entropy(out.logits, y, c.optim.label_smoothing);
    if (out.aux_logits.defined() && c.model.aux_weight > 0)
      loss = loss + c.model.aux_weight * smoothed_cross_entropy(out.aux_logits, y, c.optim.label_smoothing);
    sgd.zero_grad();
    loss.backward();
    if (group.size() > 1) {
      std::vector<torch::Tensor> grads;
      for (const auto& p : net->parameters()) grads.push_back(p.grad());
      group.average(grads);
    }
    if (c.optim.grad_clip > 0) torch::nn::utils::clip_grad_norm_(net->parameters(), c.optim.grad_clip);
    sgd.step();
    return loop::StepStats{loop::batch_stats(out.logits, y, loss.item<double>()), std::nullopt};
  };
  epochs.buffers = [&] { return net->buffers(); };
  epochs.replicas = [&] { return std::vector<loop::Replica>{{"weights", net->parameters()}}; };
  epochs.end_epoch = [&](int64_t epoch, const std::function<double()>& epoch_seconds) {
    rec.train_loss = state.partial.loss();
    rec.train_acc = state.partial.accuracy();
    if (d.val) {
      auto v = evaluate(net, *d.val, aug, group);
      rec.val_loss = v.loss();
      rec.val_acc = v.accuracy();
      if (c.optim.select == "best_val" && (state.history.empty() || rec.val_acc > state.best_val_acc)) {
        state.best_val_acc = rec.val_acc;
        state.best_epoch = epoch;
        state.best_weights = store::module_state(*net);
      }
    }
    rec.seconds = epoch_seconds();
    spdlog::info("epoch {}/{} lr {:.5f} drop-path {:.3f} | train loss {:.4f} acc {:.2f}%{} | {:.1f}s", epoch + 1,
                 c.optim.epochs, rec.lr, rec.drop_path, rec.train_loss, 100 * rec.train_acc,
                 d.val ? fmt::format(" | val loss {:.4f} acc {:.2f}%", rec.val_loss, 100 * rec.val_acc) : "",
                 rec.seconds);
    state.history.push_back(rec);
  };
  epochs.save = save;
  epochs.write_results = write_results;
  net->train();
  loop::recording_failure(write_results, [&] { loop::run_epochs(epochs, state); });
  result.epochs = state.history;
  result.selected_epoch = c.optim.epochs - 1;
  if (c.optim.select == "best_val" && !state.best_weights.empty()) {
    store::load_module_state(*net, state.best_weights, checkpoint_path);
    result.selected_epoch = state.best_epoch;
  }
  auto test = evaluate(net, d.test, aug, group);
  result.test_loss = test.loss();
  result.test_acc = test.accuracy();
  result.seconds = elapsed();
  state.finished = true;
  save();
  if (leader) {
    core::write_text_atomically((std::filesystem::path(c.run.out_dir) / "metrics.csv").string(), metrics_csv(result.epochs));
    core::write_text_atomically((std::filesystem::path(c.run.out_dir) / "result.txt").string(), result_text(result, c));
  }
  write_results("finished", "");
  spdlog::info("train finished in {}: test accuracy {:.2f}% (epoch {}, select={})",
               core::Progress::format_duration(result.seconds), 100 * result.test_acc, result.selected_epoch + 1,
               c.optim.select);
  return result;
}

}  // namespace dnas::train
