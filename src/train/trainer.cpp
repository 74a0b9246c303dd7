#include "dnas/train/trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "dnas/core/error.h"
#include "dnas/core/progress.h"
#include "dnas/core/text_file.h"
#include "dnas/eval/drop_path.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/loop/run_start.h"
#include "dnas/optim/sgd_step.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"
#include "dnas/train/genotype_source.h"
#include "dnas/train/loss_scaler.h"
#include "dnas/train/losses.h"
#include "dnas/train/lr_schedule.h"
#include "dnas/train/train_checkpoint.h"
#include "dnas/train/train_results.h"
#include "retrain_data.h"

namespace dnas::train {
namespace {

using loop::seconds_since;

std::string metrics_csv(const std::vector<TrainEpoch>& epochs) {
  std::string s = "epoch,lr,drop_path,train_loss,train_acc,val_loss,val_acc,seconds,data_wait\n";
  for (const auto& e : epochs)
    s += fmt::format("{},{:.6g},{:.4f},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f},{:.3f}\n", e.epoch, e.lr, e.drop_path,
                     e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.seconds, e.data_wait);
  return s;
}

std::string result_text(const TrainResult& r, const TrainConfig& c) {
  return fmt::format(
      "genotype: {}\norigin: {}\nparameters: {}\nparameters_with_aux: {}\nmultiply_adds: {}\nselect: {}\n"
      "selected_epoch: {}\ntest_loss: {:.6f}\ntest_acc: {:.6f}\ntest_top5_acc: {:.6f}\nseconds: {:.1f}\n",
      genotype::to_string(r.genotype), r.genotype_origin, r.cost.parameters, r.cost.parameters_with_aux,
      r.cost.multiply_adds, c.optim.select, r.selected_epoch + 1, r.test_loss, r.test_acc, r.test_top5_acc, r.seconds);
}

}  // namespace

std::string format_train_table(const TrainResult& r) {
  std::string out =
      "| epoch | lr | drop-path | train loss | train acc % | val acc % | s |\n|---|---|---|---|---|---|---|\n";
  for (const auto& e : r.epochs)
    out += fmt::format("| {} | {:.4f} | {:.3f} | {:.4f} | {:.2f} | {:.2f} | {:.1f} |\n", e.epoch + 1, e.lr, e.drop_path,
                       e.train_loss, 100 * e.train_acc, 100 * e.val_acc, e.seconds);
  out += fmt::format(
      "\ntest accuracy: {:.2f}% (epoch {}), top-5 {:.2f}%   params: {:.3f}M (+aux {:.3f}M)   "
      "multiply-adds: {:.1f}M   time: {}\ngenotype: {}\n",
      100 * r.test_acc, r.selected_epoch + 1, 100 * r.test_top5_acc, r.cost.parameters / 1e6,
      (r.cost.parameters_with_aux - r.cost.parameters) / 1e6, r.cost.multiply_adds / 1e6,
      core::Progress::format_duration(r.seconds), genotype::to_string(r.genotype));
  return out;
}

namespace {

// The evaluation network of a retrain (model.target_params > 0 picks the C that matches).
eval::EvalNetworkConfig network_config(const TrainConfig& c, const data::DatasetInfo& info,
                                       const genotype::Genotype& genotype) {
  eval::EvalNetworkConfig net_cfg;
  net_cfg.in_channels = info.channels;
  net_cfg.classes = info.classes;
  net_cfg.channels = c.model.channels;
  net_cfg.layers = c.model.layers;
  net_cfg.auxiliary = c.model.auxiliary;
  net_cfg.stem = c.model.stem;
  net_cfg.channels_last = c.model.channels_last;
  net_cfg.precision = ops::parse_precision(c.run.precision, "run.precision");
  if (c.model.target_params > 0) {
    net_cfg.channels = eval::channels_for_parameters(genotype, net_cfg,
                                                     static_cast<int64_t>(std::llround(c.model.target_params * 1e6)));
    spdlog::info("train: C = {} gives the parameter count nearest model.target_params = {}M", net_cfg.channels,
                 c.model.target_params);
    torch::manual_seed(c.run.seed);  // the probe networks drew from the generator: same weights as model.channels = C
  }
  return net_cfg;
}

// The network's parameters after moving it to `device` (it is initialised on the CPU: the same
// weights for a seed on every device).
std::vector<torch::Tensor> parameters_on(eval::EvalNetwork& net, torch::Device device) {
  net->to(device);
  return net->parameters();
}

// One retrain: what it sets up (in the order that draws the same random numbers for a seed), the
// epoch loop's hooks, the checkpoint and the results file.
class TrainSession {
 public:
  TrainSession(const TrainConfig& c, std::shared_ptr<comm::ProcessGroup> group_ptr,
               std::optional<ResolvedGenotype> genotype)
      : c_(c),
        group_ptr_(std::move(group_ptr)),
        group_(*group_ptr_),
        run_(loop::start_run(c.run, "train", c.data.batch_size, group_)),
        resolved_(genotype ? std::move(*genotype)
                           : resolve_genotype(c.model.genotype, "model.genotype", c.model.genotype_epoch)),
        d_(c, group_),
        net_cfg_(network_config(c, d_.info(), resolved_.genotype)),
        net_(resolved_.genotype, net_cfg_),
        sgd_(parameters_on(net_, run_.device),
             torch::optim::SGDOptions(c.optim.lr).momentum(c.optim.momentum).weight_decay(c.optim.weight_decay)),
        checkpoint_path_((std::filesystem::path(c.run.out_dir) / "checkpoint.h5").string()) {
    result_.genotype = resolved_.genotype;
    result_.genotype_origin = resolved_.origin;
    result_.channels = net_cfg_.channels;
    result_.cost = eval::network_cost(resolved_.genotype, net_cfg_, d_.info().height, d_.info().width);
    if (group_.leader()) std::filesystem::create_directories(c.run.out_dir);
  }

  TrainResult run() {
    if (c_.run.resume) {
      state_ = load_train_checkpoint(checkpoint_path_, c_, resolved_.genotype, *net_, sgd_);
      spdlog::info("train: resumed from {} at epoch {} step {}", checkpoint_path_, state_.epoch + 1, state_.step);
    }
    spdlog::info(
        "train: {} on {} ({} train / {} val / {} test images), {} threads on {}, C={} L={}, {:.3f}M params, "
        "{:.1f}M multiply-adds, seed {}",
        resolved_.origin, c_.data.dataset, d_.train_images(), d_.val_images(), d_.test_images(), run_.threads,
        run_.device.str(), net_cfg_.channels, c_.model.layers, result_.cost.parameters / 1e6,
        result_.cost.multiply_adds / 1e6, c_.run.seed);
    auto epochs = epoch_loop();
    net_->train();
    loop::recording_failure(epochs.write_results, [&] { loop::run_epochs(epochs, state_); });
    result_.epochs = state_.history;
    result_.selected_epoch = c_.optim.epochs - 1;
    if (c_.optim.select == "best_val" && !state_.best_weights.empty()) {
      store::load_module_state(*net_, state_.best_weights, checkpoint_path_);
      result_.selected_epoch = state_.best_epoch;
    }
    const EvalStats test = d_.evaluate_test(net_);
    result_.test_loss = test.top1.loss();
    result_.test_acc = test.top1.accuracy();
    result_.test_top5_acc = test.top5_accuracy();
    result_.seconds = elapsed();
    state_.finished = true;
    save();
    if (group_.leader()) {
      const auto dir = std::filesystem::path(c_.run.out_dir);
      core::write_text_atomically((dir / "metrics.csv").string(), metrics_csv(result_.epochs));
      core::write_text_atomically((dir / "result.txt").string(), result_text(result_, c_));
    }
    write_results("finished", "");
    spdlog::info("train finished in {}: test accuracy {:.2f}% (epoch {}, select={})",
                 core::Progress::format_duration(result_.seconds), 100 * result_.test_acc, result_.selected_epoch + 1,
                 c_.optim.select);
    return result_;
  }

 private:
  double elapsed() const { return state_.seconds_before + seconds_since(run_.start); }

  void save() {
    state_.seconds = elapsed();
    if (group_.leader()) save_train_checkpoint(checkpoint_path_, c_, resolved_.genotype, *net_, sgd_, state_);
  }

  // results.h5: rewritten (atomically) at every epoch end and when the run ends, however it ends.
  void write_results(const std::string& status, const std::string& error) {
    if (!group_.leader()) return;
    TrainResult snapshot = result_;
    if (status != "finished") snapshot.epochs = state_.history;
    snapshot.seconds = elapsed();
    store::write_atomically((std::filesystem::path(c_.run.out_dir) / "results.h5").string(), [&](store::H5File& f) {
      store::write_provenance(f, {store::layout::provenance::kKindTrain, status, error, c_.run.config_text});
      write_train_results(f, store::layout::train::kGroup, snapshot);
    });
  }

  // The steps and epoch ends of the retrain; the loop supplies the stop agreement, checkpoints,
  // results status and epoch-end sync.
  loop::EpochLoop epoch_loop() {
    auto epochs = d_.epoch_loop(checkpoint_path_);
    epochs.train_loss_error = {"training loss", c_.run.out_dir, "lower train.lr or check the data"};
    epochs.train_sum = &state_.partial;
    epochs.begin_epoch = [this](int64_t epoch) {
      rec_ = TrainEpoch{};
      rec_.epoch = epoch;
      rec_.lr = learning_rate(c_.optim, epoch);
      rec_.drop_path = eval::drop_path_rate(c_.model.drop_path, epoch, c_.optim.epochs);
      for (auto& param_group : sgd_.param_groups())
        static_cast<torch::optim::SGDOptions&>(param_group.options()).lr(rec_.lr);
      net_->set_drop_path_prob(rec_.drop_path);
      d_.begin_epoch(epoch, state_.step);
    };
    epochs.step = [this](const data::Batch& b) { return step(b); };
    epochs.buffers = [this] { return net_->buffers(); };
    epochs.replicas = [this] { return std::vector<loop::Replica>{{"weights", net_->parameters()}}; };
    epochs.end_epoch = [this](int64_t epoch, const std::function<double()>& epoch_seconds) {
      end_epoch(epoch, epoch_seconds);
    };
    epochs.save = [this] { save(); };
    epochs.write_results = [this](const std::string& status, const std::string& error) {
      write_results(status, error);
    };
    return epochs;
  }

  loop::StepStats step(const data::Batch& b) {
    auto [x, y] = d_.train_inputs(b, run_.device);
    auto out = net_->forward(x);
    auto loss = smoothed_cross_entropy(out.logits, y, c_.optim.label_smoothing);
    if (out.aux_logits.defined() && c_.model.aux_weight > 0)
      loss = loss + c_.model.aux_weight * smoothed_cross_entropy(out.aux_logits, y, c_.optim.label_smoothing);
    sgd_.zero_grad();
    scaler_.scale(loss).backward();
    if (group_.size() > 1) {
      std::vector<torch::Tensor> grads;
      for (const auto& p : net_->parameters()) grads.push_back(p.grad());
      group_.average(grads);
    }
    // The averaged gradients are the same on every rank, so all ranks skip the same steps.
    const bool finite = scaler_.unscale(net_->parameters());
    if (finite) {
      optim::clip_and_step(sgd_, c_.optim.grad_clip);
    }
    scaler_.update(finite);
    return loop::StepStats{loop::batch_stats(out.logits, y, loss.item<double>()), std::nullopt};
  }

  void end_epoch(int64_t epoch, const std::function<double()>& epoch_seconds) {
    rec_.data_wait = d_.data_wait_seconds();
    const auto skipped_here = static_cast<double>(d_.skipped_this_epoch());
    d_.prepare_next_epoch(epoch);
    rec_.train_loss = state_.partial.loss();
    rec_.train_acc = state_.partial.accuracy();
    if (d_.has_val()) {
      const auto v = d_.evaluate_val(net_).top1;
      rec_.val_loss = v.loss();
      rec_.val_acc = v.accuracy();
      if (c_.optim.select == "best_val" && (state_.history.empty() || rec_.val_acc > state_.best_val_acc)) {
        state_.best_val_acc = rec_.val_acc;
        state_.best_epoch = epoch;
        state_.best_weights = store::module_state(*net_);
      }
    }
    rec_.seconds = epoch_seconds();
    spdlog::info("epoch {}/{} lr {:.5f} drop-path {:.3f} | train loss {:.4f} acc {:.2f}%{} | {:.1f}s", epoch + 1,
                 c_.optim.epochs, rec_.lr, rec_.drop_path, rec_.train_loss, 100 * rec_.train_acc,
                 d_.has_val() ? fmt::format(" | val loss {:.4f} acc {:.2f}%", rec_.val_loss, 100 * rec_.val_acc) : "",
                 rec_.seconds);
    if (d_.streamed()) {
      const auto totals = group_.sum({rec_.data_wait, skipped_here});
      const double wait = totals[0] / group_.size();
      spdlog::info("data: the steps waited {:.1f} s for batches ({:.1f}% of the epoch; mean over ranks)", wait,
                   rec_.seconds > 0 ? 100 * wait / rec_.seconds : 0.0);
      const auto skipped = static_cast<int64_t>(totals[1]);
      if (skipped > 0) spdlog::warn("data: {} bad images skipped this epoch (data.bad_images = skip)", skipped);
    }
    if (scaler_.enabled())
      spdlog::info("fp16 loss scale {} ({} steps skipped for non-finite gradients so far)", scaler_.current_scale(),
                   scaler_.skipped_steps());
    state_.history.push_back(rec_);
  }

  const TrainConfig& c_;
  std::shared_ptr<comm::ProcessGroup> group_ptr_;
  comm::ProcessGroup& group_;
  loop::RunStart run_;
  ResolvedGenotype resolved_;
  RetrainData d_;
  eval::EvalNetworkConfig net_cfg_;
  eval::EvalNetwork net_;
  torch::optim::SGD sgd_;
  LossScaler scaler_{net_cfg_.precision == ops::Precision::Fp16};  // fp16 only
  std::string checkpoint_path_;
  TrainResult result_;
  TrainProgress state_;
  TrainEpoch rec_;
};

}  // namespace

TrainResult run_training(const TrainConfig& c, std::shared_ptr<comm::ProcessGroup> group,
                         std::optional<ResolvedGenotype> genotype) {
  validate(c);
  return TrainSession(c, std::move(group), std::move(genotype)).run();
}

}  // namespace dnas::train
