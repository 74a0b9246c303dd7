#include "dnas/lm/rnn_search.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/lm/bptt_loop.h"
#include "dnas/lm/lm_steps.h"
#include "dnas/lm/rnn_arch.h"
#include "dnas/lm/rnn_checkpoint.h"
#include "dnas/ops/precision.h"
#include "dnas/search/hypergradient.h"
#include "dnas/search/nasp_proximal.h"
#include "dnas/search/strategy_state.h"

namespace dnas::lm {
namespace {

using loop::Clock;
using loop::seconds_since;
constexpr double kDartsAlphaInit = 1e-3;  // alpha ~ 1e-3 N(0, 1)
constexpr double kNaspAlphaInit = 0.5;

class RnnSearch {
 public:
  RnnSearch(const Corpus& corpus, const RnnConfig& cfg)
      : cfg_(cfg),
        s_(cfg.search),
        method_(parse_rnn_search_method(s_.method)),
        model_(nullptr),
        train_rows_(batchify(corpus.train, s_.batch_size, "train")),
        windows_(train_rows_, s_.bptt, s_.seed) {
    torch::manual_seed(s_.seed);
    auto mc = cfg.model;
    mc.vocab = corpus.vocab_size();
    mc.node_bn = true;
    model_ = RnnLanguageModel(mc);
    params_ = model_->parameters();
    arch_rows_ = batchify(corpus.valid, s_.batch_size, "valid");
    eval_rows_ = batchify(corpus.valid, s_.eval_batch_size, "valid");
    const int64_t edges = rnn_edge_count(mc.steps), ops = static_cast<int64_t>(ops_.size());
    alpha_ = nasp() ? torch::full({edges, ops}, kNaspAlphaInit) : kDartsAlphaInit * torch::randn({edges, ops});
    alpha_.requires_grad_();
    arch_opt_ = std::make_unique<torch::optim::Adam>(
        std::vector<torch::Tensor>{alpha_},
        torch::optim::AdamOptions(s_.arch_lr).betas({s_.arch_beta1, s_.arch_beta2}).weight_decay(s_.arch_weight_decay));
    hidden_ = model_->init_hidden(s_.batch_size);
    hidden_arch_ = model_->init_hidden(s_.batch_size);
    result_.method = s_.method;
    result_.ops = ops_;
  }

  // The epochs on the shared loop, which stops, checkpoints and checks the losses; this class
  // supplies the step, the epoch-end record and the checkpoint's content.
  RnnSearchResult run(const RnnEpochCallback& on_epoch) {
    const auto start = Clock::now();
    RnnLoopState state;
    if (cfg_.resume && !std::filesystem::exists(cfg_.checkpoint)) {
      spdlog::warn("rnn search: nothing to resume ({} does not exist); starting from the beginning", cfg_.checkpoint);
    } else if (cfg_.resume) {
      state = restore(read_rnn_search_checkpoint(cfg_.checkpoint));
      spdlog::info("rnn search: resumed from {} at epoch {} step {}", cfg_.checkpoint, state.position.epoch + 1,
                   state.position.step);
      if (on_epoch && state.position.epoch > 0) on_epoch(result_);  // results.h5 keeps the finished epochs
    }
    const auto elapsed = [&] { return state.position.seconds_before + seconds_since(start); };
    const auto solo = comm::solo_group();
    auto epochs = bptt_epoch_loop("rnn search", s_.epochs, s_.steps_per_epoch, windows_, *solo, cfg_.progress,
                                  cfg_.checkpoint, cfg_.stop_after_steps);
    const std::string where = "dnas rnn search (" + s_.method + ")";
    epochs.train_loss_error = {"training loss (weight step)", where,
                               "lower search.lr (or search.clip), or check the corpus"};
    epochs.val_loss_error = {"validation loss (architecture step)", where,
                             "lower search.arch_lr, or search.lr if the weights diverged first"};
    loop::BatchStats arch_sum;  // the architecture steps' NLL: checked by the loop, not recorded
    epochs.train_sum = &state.epoch_sum;
    epochs.val_sum = &arch_sum;
    epochs.step = [&](const data::Batch&) { return step(); };
    epochs.end_epoch = [&](int64_t epoch, const std::function<double()>&) {
      record_epoch(epoch, state.epoch_sum, elapsed());
    };
    epochs.save = [&] {
      state.position.seconds = elapsed();
      if (!cfg_.checkpoint.empty()) write_rnn_search_checkpoint(cfg_.checkpoint, snapshot(state));
    };
    // dnas rnn writes results.h5 (search and retrain) from on_epoch, and itself at a stop or failure.
    epochs.write_results = [&](const std::string& status, const std::string&) {
      if (status == "running" && on_epoch) on_epoch(result_);
    };
    loop::run_epochs(epochs, state.position);
    if (s_.epochs == 0) result_.genotype = derive();
    return result_;
  }

 private:
  loop::StepStats step() {
    const auto window = windows_.next();
    const double lr = s_.lr * static_cast<double>(window.length) / static_cast<double>(s_.bptt);
    const auto arch_batch = token_batch(arch_rows_, window.start % (arch_rows_.size(0) - 1), s_.bptt);
    const auto train_batch = token_batch(train_rows_, window.start, window.length);
    const auto t0 = Clock::now();
    const double arch_nll = arch_step(arch_batch, train_batch, lr);
    const int64_t before = model_->edge_evaluations();
    const double nll = weight_step(train_batch, lr);
    result_.weight_step_evaluations += model_->edge_evaluations() - before;
    result_.weight_step_positions += train_batch.input.size(0);
    step_time_ += seconds_since(t0);
    ++result_.weight_steps;
    return {token_stats(nll, train_batch.target.numel()), token_stats(arch_nll, arch_batch.target.numel())};
  }

  void record_epoch(int64_t epoch, const loop::BatchStats& epoch_sum, double seconds) {
    result_.train_ppl.push_back(std::exp(epoch_sum.loss()));
    result_.valid_ppl.push_back(perplexity(model_, eval_rows_, inference_plan(), s_.bptt, s_.eval_batches));
    result_.genotype = derive();
    result_.genotypes.push_back(format_rnn_genotype(result_.genotype));
    result_.alphas.push_back(alpha_.detach().clone());
    result_.edge_evaluations = model_->edge_evaluations();
    result_.seconds = seconds;
    result_.step_seconds = step_time_ / static_cast<double>(std::max<int64_t>(result_.weight_steps, 1));
    spdlog::info("rnn search epoch {}/{}: train ppl {:.2f}, valid ppl {:.2f}, {}", epoch + 1, s_.epochs,
                 result_.train_ppl.back(), result_.valid_ppl.back(), result_.genotypes.back());
    windows_.restart();
  }

  RnnSearchCheckpoint snapshot(const RnnLoopState& state) const {
    RnnSearchCheckpoint c;
    c.method = s_.method;
    c.seed = s_.seed;
    c.loop = state;
    windows_.save(c.loop);
    c.loop.torch_rng = store::cpu_generator_state();
    c.weight_steps = result_.weight_steps;
    c.edge_evaluations = model_->edge_evaluations();
    c.weight_step_evaluations = result_.weight_step_evaluations;
    c.weight_step_positions = result_.weight_step_positions;
    c.step_seconds_total = step_time_;
    c.model = store::module_state(*model_);
    search::append_adam_state(c.arch_adam, "adam", *arch_opt_);
    c.arch_adam = store::with_prefix(c.arch_adam, "adam");
    c.alpha = alpha_.detach().clone();
    c.hidden = hidden_;
    c.hidden_arch = hidden_arch_;
    c.train_ppl = result_.train_ppl;
    c.valid_ppl = result_.valid_ppl;
    c.genotypes = result_.genotypes;
    c.alphas = result_.alphas;
    return c;
  }

  RnnLoopState restore(const RnnSearchCheckpoint& c) {
    const auto& where = cfg_.checkpoint;
    if (c.method != s_.method || c.seed != s_.seed)
      fail("checkpoint of a " + c.method + " search with seed " + std::to_string(c.seed) + ", not " + s_.method +
               " with seed " + std::to_string(s_.seed),
           where, "resume with the settings of the interrupted run (its config.ini), or start a new run_dir");
    if (c.alpha.sizes() != alpha_.sizes())
      fail("checkpoint alphas have another shape (other ops or node count)", where,
           "resume with the same search.ops and model.steps");
    store::load_module_state(*model_, c.model, where);
    {
      torch::NoGradGuard no_grad;
      alpha_.copy_(c.alpha);
    }
    std::vector<search::NamedTensor> adam;
    store::append_prefixed(adam, "adam", c.arch_adam);
    search::load_adam_state(*arch_opt_, "adam", adam);
    store::restore_cpu_generator_state(c.loop.torch_rng);
    windows_.restore(c.loop);
    hidden_ = c.hidden;
    hidden_arch_ = c.hidden_arch;
    step_time_ = c.step_seconds_total;
    result_.train_ppl = c.train_ppl;
    result_.valid_ppl = c.valid_ppl;
    result_.genotypes = c.genotypes;
    result_.alphas = c.alphas;
    result_.weight_steps = c.weight_steps;
    result_.seconds = c.loop.position.seconds_before;
    result_.edge_evaluations = c.edge_evaluations;
    result_.weight_step_evaluations = c.weight_step_evaluations;
    result_.weight_step_positions = c.weight_step_positions;
    result_.step_seconds = c.step_seconds_total / static_cast<double>(std::max<int64_t>(c.weight_steps, 1));
    model_->restore_edge_evaluations(c.edge_evaluations);
    if (!c.genotypes.empty()) result_.genotype = derive();
    return c.loop;
  }

  bool nasp() const { return method_ == RnnSearchMethod::Nasp; }
  int steps() const { return model_->config().steps; }
  torch::Tensor discrete() const { return nasp_rnn_discrete(alpha_.detach(), steps()); }
  CellPlan softmax_plan() const { return CellPlan::mixed(torch::softmax(alpha_.detach(), -1), ops_); }

  CellPlan inference_plan() const {
    if (nasp()) return CellPlan::fixed(discrete_rnn_genotype(discrete(), ops_, steps()));
    return softmax_plan();
  }

  RnnGenotype derive() const {
    if (nasp()) return discrete_rnn_genotype(discrete(), ops_, steps());
    return derive_rnn_genotype(torch::softmax(alpha_.detach(), -1), ops_, steps());
  }

  // One Adam step on alpha (NASP: then the proximal step onto the box); returns the validation NLL.
  double arch_step(const TokenBatch& arch, const TokenBatch& train, double lr) {
    torch::Tensor grad;
    double nll = 0;
    if (nasp()) {
      // dL/dA at the discrete architecture: every pair runs, but only the selected ones with
      // autograd (the others carry weight 0: only their entry of A gets a gradient).
      auto a = discrete().requires_grad_();
      auto plan = CellPlan::mixed(a, ops_);
      plan.grads_through_selected_only = true;
      auto loss = lm_loss(model_, arch, hidden_arch_, plan);
      grad = torch::autograd::grad({loss.loss}, {a})[0];
      hidden_arch_ = loss.hidden;
      nll = loss.nll;
    } else if (method_ == RnnSearchMethod::Darts2nd) {
      grad = second_order_grad(arch, train, lr, nll);
    } else {
      auto loss = lm_loss(model_, arch, hidden_arch_, CellPlan::mixed(torch::softmax(alpha_, -1), ops_));
      grad = torch::autograd::grad({loss.loss}, {alpha_})[0];
      hidden_arch_ = loss.hidden;
      nll = loss.nll;
    }
    arch_opt_->zero_grad();
    alpha_.mutable_grad() = grad.detach();
    arch_opt_->step();
    if (nasp()) search::proximal_step(alpha_, search::NaspVariant::Nasp);
    return nll;
  }

  // DARTS 2nd order (search::unrolled_hypergradient, RNN form) with the reference RNN
  // architect's virtual step w' = w - lr (g + wd w); g and v are clipped to norm search.clip,
  // and g's clip coefficient (not capped at 1) scales the Hessian term.
  torch::Tensor second_order_grad(const TokenBatch& arch, const TokenBatch& train, double lr, double& val_nll) {
    const auto mix = [&] { return CellPlan::mixed(torch::softmax(alpha_, -1), ops_); };
    search::UnrolledProblem p;
    p.weights = params_;
    p.arch = {alpha_};
    p.xi = lr;
    p.hessian_radius = s_.hessian_radius;
    p.clip = s_.clip;
    p.form = search::FiniteDifferenceForm::Rnn;
    p.step_loss = [&] { return lm_loss(model_, train, hidden_, softmax_plan()).loss; };
    p.val_loss = [&] {
      auto val = lm_loss(model_, arch, hidden_arch_, mix());
      val_nll = val.nll;
      hidden_arch_ = val.hidden;
      return val.loss;
    };
    // The Hessian term divides a difference of two losses by 2 eps: float32 whatever the
    // precision, as in the CNN search (bf16_hypergradient_test.cpp).
    p.train_loss = [&] {
      ops::FullPrecisionScope full_precision;
      return lm_loss(model_, train, hidden_, mix()).loss;
    };
    p.virtual_step = [&](const std::vector<torch::Tensor>& g) {
      for (size_t k = 0; k < params_.size(); ++k) params_[k].sub_(lr * (g[k] + s_.weight_decay * params_[k]));
    };
    return search::unrolled_hypergradient(p)[0];
  }

  // One clipped SGD step of w (NASP: on the discrete architecture, computing only the selected
  // (edge, activation) of every node); returns the NLL.
  double weight_step(const TokenBatch& train, double lr) {
    const auto plan = nasp() ? inference_plan() : softmax_plan();
    model_->zero_grad();
    auto loss = lm_loss(model_, train, hidden_, plan, s_.ar, s_.tar);
    loss.loss.backward();
    clipped_sgd_step(params_, lr, s_.weight_decay, s_.clip);
    hidden_ = loss.hidden;
    return loss.nll;
  }

  const RnnConfig& cfg_;
  const RnnSearchSettings& s_;
  const RnnSearchMethod method_;
  const std::vector<std::string> ops_ = search_ops(s_);
  RnnLanguageModel model_;
  std::vector<torch::Tensor> params_;
  torch::Tensor train_rows_;
  BpttWindows windows_;  // over train_rows_
  torch::Tensor arch_rows_, eval_rows_;
  torch::Tensor alpha_;
  std::unique_ptr<torch::optim::Adam> arch_opt_;
  torch::Tensor hidden_, hidden_arch_;
  double step_time_ = 0;  // wall time of the arch + weight steps so far
  RnnSearchResult result_;
};

}  // namespace

RnnSearchResult run_rnn_search(const Corpus& corpus, const RnnConfig& config, const RnnEpochCallback& on_epoch) {
  validate(config);
  RnnSearch search(corpus, config);
  return search.run(on_epoch);
}

}  // namespace dnas::lm
