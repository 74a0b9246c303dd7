#include "dnas/lm/rnn_search.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "dnas/core/log.h"
#include "dnas/core/progress.h"
#include "dnas/core/signals.h"
#include "dnas/lm/lm_steps.h"
#include "dnas/core/error.h"
#include "dnas/lm/rnn_arch.h"
#include "dnas/lm/rnn_checkpoint.h"
#include "dnas/search/strategy_state.h"

namespace dnas::lm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kDartsAlphaInit = 1e-3;  // alpha ~ 1e-3 N(0, 1)
constexpr double kNaspAlphaInit = 0.5;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

torch::Tensor grad_or_zeros(const torch::Tensor& g, const torch::Tensor& like) { return g.defined() ? g : torch::zeros_like(like); }

class RnnSearch {
 public:
  RnnSearch(const Corpus& corpus, const RnnConfig& cfg) : cfg_(cfg), s_(cfg.search), model_(nullptr), rng_(s_.seed) {
    torch::manual_seed(s_.seed);
    auto mc = cfg.model;
    mc.vocab = corpus.vocab_size();
    mc.node_bn = true;
    model_ = RnnLanguageModel(mc);
    params_ = model_->parameters();
    train_rows_ = batchify(corpus.train, s_.batch_size, "train");
    arch_rows_ = batchify(corpus.valid, s_.batch_size, "valid");
    eval_rows_ = batchify(corpus.valid, s_.eval_batch_size, "valid");
    const int64_t edges = rnn_edge_count(mc.steps), ops = static_cast<int64_t>(ops_.size());
    alpha_ = nasp() ? torch::full({edges, ops}, kNaspAlphaInit) : kDartsAlphaInit * torch::randn({edges, ops});
    alpha_.requires_grad_();
    arch_opt_ = std::make_unique<torch::optim::Adam>(
        std::vector<torch::Tensor>{alpha_}, torch::optim::AdamOptions(s_.arch_lr)
                                                .betas({s_.arch_beta1, s_.arch_beta2})
                                                .weight_decay(s_.arch_weight_decay));
    hidden_ = model_->init_hidden(s_.batch_size);
    hidden_arch_ = model_->init_hidden(s_.batch_size);
    result_.method = s_.method;
    result_.ops = ops_;
  }

  RnnSearchResult run(const RnnEpochCallback& on_epoch) {
    const auto start = Clock::now();
    double step_time = 0, seconds_before = 0;
    int first_epoch = 0;
    if (cfg_.resume && !std::filesystem::exists(cfg_.checkpoint))
      spdlog::warn("rnn search: nothing to resume ({} does not exist); starting from the beginning", cfg_.checkpoint);
    else if (cfg_.resume) {
      const auto c = read_rnn_search_checkpoint(cfg_.checkpoint);
      restore(c);
      first_epoch = c.epochs_done;
      step_time = c.step_seconds_total;
      seconds_before = c.seconds;
      spdlog::info("rnn search: resumed from {} after epoch {}", cfg_.checkpoint, first_epoch);
    }
    for (int epoch = first_epoch; epoch < s_.epochs; ++epoch) {
      const int64_t rows = train_rows_.size(0);
      const int64_t planned = s_.steps_per_epoch > 0 ? s_.steps_per_epoch : rows / s_.bptt;
      core::Progress progress("search epoch " + std::to_string(epoch + 1) + "/" + std::to_string(s_.epochs), planned,
                              10.0, cfg_.progress);
      double nll = 0;
      int64_t tokens = 0, step = 0;
      for (int64_t i = 0; i < rows - 2 && (s_.steps_per_epoch == 0 || step < s_.steps_per_epoch); ++step) {
        if (core::stop_requested()) throw core::Interrupted{};  // SIGTERM/SIGUSR1: results.h5 keeps finished epochs
        const int64_t seq_len = sample_seq_len(rng_, s_.bptt);
        const double lr = s_.lr * static_cast<double>(seq_len) / static_cast<double>(s_.bptt);
        const auto arch_batch = token_batch(arch_rows_, i % (arch_rows_.size(0) - 1), s_.bptt);
        const auto train_batch = token_batch(train_rows_, i, seq_len);
        const auto t0 = Clock::now();
        arch_step(arch_batch, train_batch, lr);
        const int64_t before = model_->edge_evaluations();
        const auto loss = weight_step(train_batch, lr);
        result_.weight_step_evaluations += model_->edge_evaluations() - before;
        result_.weight_step_positions += train_batch.input.size(0);
        step_time += seconds_since(t0);
        nll += loss * static_cast<double>(train_batch.target.numel());
        tokens += train_batch.target.numel();
        i += seq_len;
        progress.update(step + 1, "ppl " + std::to_string(std::exp(nll / static_cast<double>(tokens))));
        ++result_.weight_steps;
      }
      progress.finish();
      result_.train_ppl.push_back(std::exp(nll / static_cast<double>(std::max<int64_t>(tokens, 1))));
      result_.valid_ppl.push_back(perplexity(model_, eval_rows_, inference_plan(), s_.bptt, s_.eval_batches));
      result_.genotype = derive();
      result_.genotypes.push_back(format_rnn_genotype(result_.genotype));
      result_.alphas.push_back(alpha_.detach().clone());
      result_.edge_evaluations = model_->edge_evaluations();
      result_.seconds = seconds_before + seconds_since(start);
      result_.step_seconds = step_time / static_cast<double>(std::max<int64_t>(result_.weight_steps, 1));
      if (!cfg_.checkpoint.empty()) write_rnn_search_checkpoint(cfg_.checkpoint, snapshot(epoch + 1, step_time));
      spdlog::info("rnn search epoch {}/{}: train ppl {:.2f}, valid ppl {:.2f}, {}", epoch + 1, s_.epochs,
                   result_.train_ppl.back(), result_.valid_ppl.back(), result_.genotypes.back());
      if (on_epoch) on_epoch(result_);
    }
    if (s_.epochs == 0) result_.genotype = derive();
    return result_;
  }

 private:
  RnnSearchCheckpoint snapshot(int epochs_done, double step_time) {
    RnnSearchCheckpoint c;
    c.method = s_.method;
    c.seed = s_.seed;
    c.epochs_done = epochs_done;
    c.weight_steps = result_.weight_steps;
    c.edge_evaluations = result_.edge_evaluations;
    c.weight_step_evaluations = result_.weight_step_evaluations;
    c.weight_step_positions = result_.weight_step_positions;
    c.seconds = result_.seconds;
    c.step_seconds_total = step_time;
    c.model = store::module_state(*model_);
    search::append_adam_state(c.arch_adam, "adam", *arch_opt_);
    c.arch_adam = store::with_prefix(c.arch_adam, "adam");
    c.alpha = alpha_.detach().clone();
    c.torch_rng = store::cpu_generator_state();
    c.hidden = hidden_;
    c.hidden_arch = hidden_arch_;
    std::ostringstream rng;
    rng << rng_;
    c.sequence_rng = rng.str();
    c.train_ppl = result_.train_ppl;
    c.valid_ppl = result_.valid_ppl;
    c.genotypes = result_.genotypes;
    c.alphas = result_.alphas;
    return c;
  }

  void restore(const RnnSearchCheckpoint& c) {
    const auto& where = cfg_.checkpoint;
    if (c.method != s_.method || c.seed != s_.seed)
      fail("checkpoint of a " + c.method + " search with seed " + std::to_string(c.seed) + ", not " + s_.method +
               " with seed " + std::to_string(s_.seed),
           where, "resume with the settings of the interrupted run (its config.ini), or start a new run_dir");
    if (c.alpha.sizes() != alpha_.sizes())
      fail("checkpoint alphas have another shape (other ops or node count)", where, "resume with the same search.ops and model.steps");
    store::load_module_state(*model_, c.model, where);
    {
      torch::NoGradGuard no_grad;
      alpha_.copy_(c.alpha);
    }
    std::vector<search::NamedTensor> adam;
    store::append_prefixed(adam, "adam", c.arch_adam);
    search::load_adam_state(*arch_opt_, "adam", adam);
    store::restore_cpu_generator_state(c.torch_rng);
    hidden_ = c.hidden;
    hidden_arch_ = c.hidden_arch;
    std::istringstream rng(c.sequence_rng);
    rng >> rng_;
    result_.train_ppl = c.train_ppl;
    result_.valid_ppl = c.valid_ppl;
    result_.genotypes = c.genotypes;
    result_.alphas = c.alphas;
    result_.weight_steps = c.weight_steps;
    result_.seconds = c.seconds;
    result_.edge_evaluations = c.edge_evaluations;
    result_.weight_step_evaluations = c.weight_step_evaluations;
    result_.weight_step_positions = c.weight_step_positions;
    result_.step_seconds = c.step_seconds_total / static_cast<double>(std::max<int64_t>(c.weight_steps, 1));
    model_->restore_edge_evaluations(c.edge_evaluations);
    if (!c.genotypes.empty()) result_.genotype = derive();
  }

  bool nasp() const { return s_.method == "nasp"; }
  int steps() const { return model_->config().steps; }
  torch::Tensor discrete() const { return nasp_rnn_discrete(alpha_.detach(), steps()); }

  CellPlan inference_plan() const {
    if (nasp()) return CellPlan::fixed(discrete_rnn_genotype(discrete(), ops_, steps()));
    return CellPlan::mixed(torch::softmax(alpha_.detach(), -1), ops_);
  }

  RnnGenotype derive() const {
    if (nasp()) return discrete_rnn_genotype(discrete(), ops_, steps());
    return derive_rnn_genotype(torch::softmax(alpha_.detach(), -1), ops_, steps());
  }

  void arch_step(const TokenBatch& arch, const TokenBatch& train, double lr) {
    torch::Tensor grad;
    if (nasp()) {
      // dL/dA at the discrete architecture: every pair runs, but only the selected ones with
      // autograd (the others carry weight 0: only their entry of A gets a gradient).
      auto a = discrete().requires_grad_();
      auto plan = CellPlan::mixed(a, ops_);
      plan.grads_through_selected_only = true;
      auto loss = lm_loss(model_, arch, hidden_arch_, plan);
      check_finite(loss.nll, "rnn search (architecture step)");
      grad = torch::autograd::grad({loss.loss}, {a})[0];
      hidden_arch_ = loss.hidden;
    } else if (s_.method == "darts_2nd") {
      grad = second_order_grad(arch, train, lr);
    } else {
      auto loss = lm_loss(model_, arch, hidden_arch_, CellPlan::mixed(torch::softmax(alpha_, -1), ops_));
      check_finite(loss.nll, "rnn search (architecture step)");
      grad = torch::autograd::grad({loss.loss}, {alpha_})[0];
      hidden_arch_ = loss.hidden;
    }
    arch_opt_->zero_grad();
    alpha_.mutable_grad() = grad.detach();
    arch_opt_->step();
    if (nasp()) {
      torch::NoGradGuard no_grad;
      alpha_.clamp_(0, 1);  // prox onto the box [0, 1]
    }
  }

  // DARTS 2nd order: grad_alpha L_val(w', alpha) - lr * k * (grad_alpha L_train(w+) - grad_alpha L_train(w-)) / 2eps,
  // w' = w - lr (g + wd w), w+- = w +- eps v, v = grad_w' L_val, eps = r / ||v||. As in the reference RNN
  // architect, g = grad_w L_train and v are clipped to norm search.clip, and k = clip / ||g||, the
  // clip coefficient of g (not capped at 1), scales the Hessian term.
  torch::Tensor second_order_grad(const TokenBatch& arch, const TokenBatch& train, double lr) {
    std::vector<torch::Tensor> saved;
    for (const auto& p : params_) saved.push_back(p.detach().clone());
    const auto restore = [&] {
      torch::NoGradGuard no_grad;
      for (size_t k = 0; k < params_.size(); ++k) params_[k].copy_(saved[k]);
    };
    const auto mix = [&] { return CellPlan::mixed(torch::softmax(alpha_, -1), ops_); };
    double clip_coef = 1;
    {
      auto loss = lm_loss(model_, train, hidden_, CellPlan::mixed(torch::softmax(alpha_.detach(), -1), ops_));
      const auto g = torch::autograd::grad({loss.loss}, params_, {}, false, false, /*allow_unused=*/true);
      std::vector<torch::Tensor> grads;
      for (size_t k = 0; k < params_.size(); ++k) grads.push_back(grad_or_zeros(g[k], params_[k]));
      clip_coef = clip_to_norm(grads, s_.clip);
      torch::NoGradGuard no_grad;
      for (size_t k = 0; k < params_.size(); ++k) params_[k].sub_(lr * (grads[k] + s_.weight_decay * params_[k]));
    }
    auto val = lm_loss(model_, arch, hidden_arch_, mix());
    check_finite(val.nll, "rnn search (architecture step)");
    hidden_arch_ = val.hidden;
    std::vector<torch::Tensor> inputs = {alpha_};
    inputs.insert(inputs.end(), params_.begin(), params_.end());
    const auto g = torch::autograd::grad({val.loss}, inputs, {}, false, false, /*allow_unused=*/true);
    std::vector<torch::Tensor> v;
    for (size_t k = 0; k < params_.size(); ++k) v.push_back(grad_or_zeros(g[k + 1], params_[k]));
    clip_to_norm(v, s_.clip);
    double norm2 = 0;
    for (const auto& t : v) norm2 += t.pow(2).sum().item<double>();
    const double eps = s_.hessian_radius / std::max(std::sqrt(norm2), 1e-12);
    const auto train_alpha_grad = [&](double sign) {
      restore();
      {
        torch::NoGradGuard no_grad;
        for (size_t k = 0; k < params_.size(); ++k) params_[k].add_(sign * eps * v[k]);
      }
      auto loss = lm_loss(model_, train, hidden_, mix());
      return torch::autograd::grad({loss.loss}, {alpha_})[0];
    };
    const auto plus = train_alpha_grad(+1), minus = train_alpha_grad(-1);
    restore();
    return g[0] - lr * clip_coef * (plus - minus) / (2 * eps);
  }

  double weight_step(const TokenBatch& train, double lr) {
    // NASP computes only the selected (edge, activation) of every node.
    const auto plan = nasp() ? inference_plan() : CellPlan::mixed(torch::softmax(alpha_.detach(), -1), ops_);
    model_->zero_grad();
    auto loss = lm_loss(model_, train, hidden_, plan, s_.ar, s_.tar);
    check_finite(loss.nll, "rnn search (weight step)");
    loss.loss.backward();
    clipped_sgd_step(params_, lr, s_.weight_decay, s_.clip);
    hidden_ = loss.hidden;
    return loss.nll;
  }

  const RnnConfig& cfg_;
  const RnnSearchSettings& s_;
  const std::vector<std::string> ops_ = search_ops(s_);
  RnnLanguageModel model_;
  std::vector<torch::Tensor> params_;
  torch::Tensor train_rows_, arch_rows_, eval_rows_;
  torch::Tensor alpha_;
  std::unique_ptr<torch::optim::Adam> arch_opt_;
  torch::Tensor hidden_, hidden_arch_;
  std::mt19937_64 rng_;
  RnnSearchResult result_;
};

}  // namespace

RnnSearchResult run_rnn_search(const Corpus& corpus, const RnnConfig& config, const RnnEpochCallback& on_epoch) {
  validate(config);
  RnnSearch search(corpus, config);
  return search.run(on_epoch);
}

}  // namespace dnas::lm
