#include "dnas/search/search_loop.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "dnas/core/progress.h"
#include "dnas/core/text_file.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/loop/run_start.h"
#include "dnas/loop/schedule.h"
#include "dnas/search/search_checkpoint.h"
#include "dnas/search/search_results.h"
#include "dnas/search/strategy_factory.h"
#include "dnas/search/weight_trainer.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"
#include "search_data.h"

namespace dnas::search {
namespace {

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

void log_epoch(const EpochRecord& rec, int64_t epochs, const std::vector<NamedTensor>& arch) {
  spdlog::info("epoch {}/{} lr {:.5f} | train loss {:.4f} acc {:.2f}% | val loss {:.4f} acc {:.2f}% | {:.1f}s",
               rec.epoch + 1, epochs, rec.lr, rec.train_loss, 100 * rec.train_acc, rec.val_loss, 100 * rec.val_acc,
               rec.seconds);
  spdlog::info("epoch {} genotype: {}", rec.epoch + 1, rec.genotype);
  for (const auto& [name, t] : arch)
    if (t.dim() == 2 && (name.rfind("alpha_", 0) == 0 || name.rfind("edge_logits_", 0) == 0))
      spdlog::info("epoch {} softmax({}):{}", rec.epoch + 1, name, format_alpha(t));
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

std::string format_results_table(const SearchResult& r) {
  std::string out =
      "| epoch | lr | train loss | train acc % | search val acc % | val loss | val acc % | s |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const auto& e : r.epochs)
    out += fmt::format("| {} | {:.4f} | {:.4f} | {:.2f} | {:.2f} | {:.4f} | {:.2f} | {:.1f} |\n", e.epoch + 1, e.lr,
                       e.train_loss, 100 * e.train_acc, 100 * e.search_val_acc, e.val_loss, 100 * e.val_acc, e.seconds);
  out += fmt::format("\nsupernet weights: {}   search time: {}\ngenotype: {}\n", r.weight_parameters,
                     core::Progress::format_duration(r.seconds), genotype::to_string(r.genotype));
  return out;
}

namespace {

// One search run: what it sets up (in the order that draws the same random numbers for a seed),
// the epoch loop's hooks, the checkpoint and the results file.
class SearchSession {
 public:
  SearchSession(const SearchConfig& c, std::shared_ptr<comm::ProcessGroup> group_ptr)
      : c_(c),
        group_ptr_(std::move(group_ptr)),
        group_(*group_ptr_),
        run_(loop::start_run(c.run, "search", c.data.batch_size, group_)),
        dataset_(data::load_dataset(c.data)),
        net_cfg_(supernet_config(c, dataset_.info, run_.device)),
        net_(net_cfg_),
        strategy_(make_strategy(c, net_cfg_)),
        weights_(net_, weight_options(c), group_ptr_),
        d_(c, dataset_, strategy_->needs().validation_splits, group_),
        checkpoint_path_((std::filesystem::path(c.run.out_dir) / "checkpoint.h5").string()) {
    result_.weight_parameters = supernet::count_parameters(*net_);
    result_.normal_ops = net_cfg_.normal_ops;
    result_.reduce_ops = net_cfg_.reduce_ops;
    if (group_.leader()) std::filesystem::create_directories(c.run.out_dir);
  }

  SearchResult run() {
    if (c_.run.resume) {
      state_ = load_search_checkpoint(checkpoint_path_, c_, weights_, *strategy_, d_.streams());
      spdlog::info("search: resumed from {} at epoch {} step {}", checkpoint_path_, state_.epoch + 1, state_.step);
    }
    spdlog::info(
        "search: method {} on {} ({} train / {} val images), {} threads on {}, supernet L={} C={} "
        "steps={} ({} weights), seed {}{}",
        c_.run.method, c_.data.dataset, d_.parts[0].size(0), d_.parts[1].size(0), run_.threads, run_.device.str(),
        net_cfg_.layers, net_cfg_.channels, net_cfg_.steps, result_.weight_parameters, c_.run.seed,
        group_.size() > 1 ? fmt::format(", data-parallel over {} ranks", group_.size()) : "");
    auto epochs = epoch_loop();
    loop::recording_failure(epochs.write_results, [&] {
      loop::run_epochs(epochs, state_);
      strategy_->finish([&](const supernet::ArchMix& mix) {
        return evaluate(net_, mix, d_.eval, d_.aug, c_.random.eval_batches, group_).loss();
      });
    });
    result_.epochs = state_.history;
    result_.arch_history = state_.arch_history;
    result_.genotype = strategy_->derive();
    result_.seconds = elapsed();
    if (group_.leader()) write_outputs(c_, result_);
    write_results("finished", "", result_.seconds);  // the file records what this call returns
    spdlog::info("search finished in {}: {}", core::Progress::format_duration(result_.seconds),
                 genotype::to_string(result_.genotype));
    return result_;
  }

 private:
  // milenas.clip_arch_grads_like_code moves the clip from w to alpha (MilenasStrategy).
  static WeightOptions weight_options(const SearchConfig& c) {
    const bool clip_alpha = parse_method(c.run.method) == Method::Milenas && c.milenas.clip_arch_grads_like_code;
    return {c.optim.w_lr, c.optim.w_momentum, c.optim.w_weight_decay, clip_alpha ? 0.0 : c.optim.w_grad_clip,
            c.optim.w_nesterov};
  }

  double elapsed() const { return state_.seconds_before + seconds_since(run_.start); }

  // Only the group's leader writes files; the other ranks hold identical state.
  void save() {
    state_.seconds = elapsed();
    if (group_.leader()) save_search_checkpoint(checkpoint_path_, c_, weights_, *strategy_, d_.streams(), state_);
  }

  // results.h5: rewritten (atomically) at every epoch end and when the run ends, however it ends.
  void write_results(const std::string& status, const std::string& error, double seconds = -1) {
    if (!group_.leader()) return;
    SearchResult snapshot = result_;
    snapshot.epochs = state_.history;
    snapshot.arch_history = state_.arch_history;
    try {
      snapshot.genotype = strategy_->derive();
    } catch (const std::exception&) {
      if (status != "failed") throw;  // a failed run (e.g. non-finite α) is recorded without its genotype
    }
    snapshot.seconds = seconds >= 0 ? seconds : elapsed();
    store::write_atomically((std::filesystem::path(c_.run.out_dir) / "results.h5").string(), [&](store::H5File& f) {
      store::write_provenance(f, {store::layout::provenance::kKindSearch, status, error, c_.run.config_text});
      write_search_results(f, store::layout::search::kGroup, snapshot, c_.run.method);
    });
  }

  // The steps and epoch ends of the search; the loop supplies the stop agreement, checkpoints,
  // results status and epoch-end sync.
  loop::EpochLoop epoch_loop() {
    auto epochs = loop::epoch_loop("search", strategy_->needs().trains_supernet ? c_.optim.epochs : 0,
                                   c_.optim.steps_per_epoch, d_.train, group_, c_.run, checkpoint_path_);
    epochs.train_loss_error = {"training loss (weight step)", "search." + c_.run.method,
                               "lower search.w_lr (or search.w_grad_clip), or check the data"};
    epochs.val_loss_error = {"validation loss (architecture step)", "search." + c_.run.method,
                             "lower search.arch_lr, or search.w_lr if the weights diverged first"};
    epochs.train_sum = &state_.train;
    epochs.val_sum = &state_.search_val;
    epochs.begin_epoch = [this](int64_t epoch) {
      const auto& o = c_.optim;
      info_ = EpochInfo{epoch, o.epochs, loop::cosine_lr(o.w_lr, o.w_lr_min, epoch, o.epochs)};
      weights_.set_lr(info_.w_lr);
      strategy_->begin_epoch(info_);
    };
    epochs.step = [this](const data::Batch& tb) {
      const auto device = run_.device;
      StepBatches batches{prepare(tb, d_.aug, true, device), prepare(d_.val.next_endless(), d_.aug, true, device), {}};
      if (d_.val_beta) batches.val_beta = prepare(d_.val_beta->next_endless(), d_.aug, true, device);
      auto r = strategy_->step(weights_, batches, info_);
      return loop::StepStats{r.train, r.val};
    };
    epochs.after_steps = [this] { strategy_->end_epoch(info_); };
    epochs.buffers = [this] { return net_->buffers(); };
    epochs.replicas = [this] {
      std::vector<torch::Tensor> arch;
      for (const auto& [name, t] : strategy_->arch_tensors()) arch.push_back(t);
      return std::vector<loop::Replica>{{"supernet weights", net_->parameters()}, {"architecture parameters", arch}};
    };
    epochs.end_epoch = [this](int64_t epoch, const std::function<double()>& epoch_seconds) {
      end_epoch(epoch, epoch_seconds);
    };
    epochs.save = [this] { save(); };
    epochs.write_results = [this](const std::string& status, const std::string& error) {
      write_results(status, error);
    };
    return epochs;
  }

  void end_epoch(int64_t epoch, const std::function<double()>& epoch_seconds) {
    auto eval = evaluate(net_, strategy_->inference_mix(), d_.eval, d_.aug, c_.optim.eval_batches, group_);
    EpochRecord rec{epoch,
                    info_.w_lr,
                    state_.train.loss(),
                    state_.train.accuracy(),
                    state_.search_val.accuracy(),
                    eval.loss(),
                    eval.accuracy(),
                    epoch_seconds(),
                    genotype::to_string(strategy_->derive())};
    log_epoch(rec, c_.optim.epochs, strategy_->arch_tensors());
    state_.history.push_back(std::move(rec));
    std::vector<NamedTensor> arch;
    for (const auto& [name, t] : strategy_->arch_tensors()) arch.emplace_back(name, t.detach().clone());
    state_.arch_history.push_back(std::move(arch));
  }

  const SearchConfig& c_;
  std::shared_ptr<comm::ProcessGroup> group_ptr_;
  comm::ProcessGroup& group_;
  loop::RunStart run_;
  data::Dataset dataset_;
  supernet::SupernetConfig net_cfg_;
  supernet::Supernet net_;
  std::unique_ptr<SearchStrategy> strategy_;
  WeightTrainer weights_;
  SearchData d_;
  std::string checkpoint_path_;
  SearchResult result_;
  SearchProgress state_;
  EpochInfo info_;
};

}  // namespace

SearchResult run_search(const SearchConfig& c, std::shared_ptr<comm::ProcessGroup> group) {
  validate(c);
  return SearchSession(c, std::move(group)).run();
}

}  // namespace dnas::search
