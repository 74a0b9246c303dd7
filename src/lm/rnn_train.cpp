#include "dnas/lm/rnn_train.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/lm/bptt_loop.h"
#include "dnas/lm/lm_steps.h"
#include "dnas/lm/rnn_checkpoint.h"

namespace dnas::lm {
namespace {

std::vector<torch::Tensor> clone_all(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

void copy_into(const std::vector<torch::Tensor>& dst, const std::vector<torch::Tensor>& src) {
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < dst.size(); ++k) dst[k].copy_(src[k]);
}

// Iterate averaging of ASGD with t0 = 0 and lambda = 0: ax = mean of the iterates since the switch.
class IterateAverage {
 public:
  bool active() const { return count_ >= 0; }
  void start(const std::vector<torch::Tensor>& params) {
    avg_ = clone_all(params);
    count_ = 0;
  }
  void update(const std::vector<torch::Tensor>& params) {
    ++count_;
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < params.size(); ++k) avg_[k].add_((params[k] - avg_[k]) / static_cast<double>(count_));
  }
  const std::vector<torch::Tensor>& average() const { return avg_; }
  int64_t count() const { return count_; }
  void restore(std::vector<torch::Tensor> avg, int64_t count) {
    avg_ = std::move(avg);
    count_ = count;
  }

 private:
  std::vector<torch::Tensor> avg_;
  int64_t count_ = -1;
};

// Parameter-order tensors under the model's parameter names, and back (checkpoints).
store::NamedTensors named(RnnLanguageModel& m, const std::vector<torch::Tensor>& values) {
  store::NamedTensors out;
  size_t k = 0;
  for (const auto& p : m->named_parameters()) out.emplace_back(p.key(), values[k++].detach().clone());
  return out;
}

std::vector<torch::Tensor> unnamed(RnnLanguageModel& m, const store::NamedTensors& entries, const std::string& where) {
  std::map<std::string, torch::Tensor> by_name(entries.begin(), entries.end());
  std::vector<torch::Tensor> out;
  const auto params = m->named_parameters();
  if (by_name.size() != params.size()) fail("checkpoint holds another network", where, "resume with the same settings");
  for (const auto& p : params) {
    const auto it = by_name.find(p.key());
    if (it == by_name.end() || !it->second.sizes().equals(p.value().sizes()))
      fail("checkpoint entry '" + p.key() + "' is missing or does not fit the network", where,
           "resume with the same retrain settings");
    out.push_back(it->second.clone());
  }
  return out;
}

// A retrain on the shared loop (loop::run_epochs), which stops, checkpoints and checks the loss;
// this class supplies the step, the epoch-end record (best weights, the switch to ASGD) and the
// checkpoint's content.
class RnnRetrain {
 public:
  RnnRetrain(const Corpus& corpus, const RnnGenotype& genotype, const RnnRetrainSettings& r)
      : r_(r),
        plan_(CellPlan::fixed(genotype)),
        genotype_text_(format_rnn_genotype(genotype)),
        model_(nullptr),
        train_rows_(batchify(corpus.train, r.batch_size, "train")),
        windows_(train_rows_, r.bptt, r.seed) {
    torch::manual_seed(r.seed);
    model_ =
        RnnLanguageModel(retrain_model_config(r, corpus.vocab_size(), static_cast<int>(genotype.recurrent.size())));
    params_ = model_->parameters();
    valid_rows_ = batchify(corpus.valid, r.eval_batch_size, "valid");
    test_rows_ = batchify(corpus.test, r.test_batch_size, "test");
    result_.genotype = genotype;
    result_.params = parameter_count(model_);
    result_.best_valid_ppl = std::numeric_limits<double>::infinity();
    best_ = clone_all(params_);
    hidden_ = model_->init_hidden(r.batch_size);
  }

  RnnTrainResult run(bool progress, const RnnTrainCallback& on_epoch) {
    const auto start = loop::Clock::now();
    RnnLoopState state;
    if (r_.resume && !r_.checkpoint.empty() && std::filesystem::exists(r_.checkpoint)) {
      state = restore(read_rnn_train_checkpoint(r_.checkpoint));
      spdlog::info("rnn retrain: resumed from {} at epoch {} step {}", r_.checkpoint, state.position.epoch + 1,
                   state.position.step);
      if (on_epoch && state.position.epoch > 0) on_epoch(result_);  // results.h5 keeps the finished epochs
    }
    const auto elapsed = [&] { return state.position.seconds_before + loop::seconds_since(start); };
    const auto solo = comm::solo_group();
    auto epochs = bptt_epoch_loop("rnn retrain", r_.epochs, r_.steps_per_epoch, windows_, *solo, progress,
                                  r_.checkpoint, r_.stop_after_steps);
    epochs.train_loss_error = {"training loss", "dnas rnn retrain", "lower retrain.lr (or retrain.clip)"};
    epochs.train_sum = &state.epoch_sum;
    epochs.begin_epoch = [&](int64_t) { model_->train(); };
    epochs.step = [&](const data::Batch&) { return step(); };
    epochs.end_epoch = [&](int64_t epoch, const std::function<double()>&) {
      record_epoch(epoch, state.epoch_sum, elapsed());
    };
    epochs.save = [&] {
      state.position.seconds = elapsed();
      if (!r_.checkpoint.empty()) write_rnn_train_checkpoint(r_.checkpoint, snapshot(state));
    };
    // dnas rnn writes results.h5 from on_epoch, and itself at a stop or failure.
    epochs.write_results = [&](const std::string& status, const std::string&) {
      if (status == "running" && on_epoch) on_epoch(result_);
    };
    loop::run_epochs(epochs, state.position);
    copy_into(params_, best_);
    result_.test_ppl = perplexity(model_, test_rows_, plan_, r_.bptt);
    if (r_.epochs == 0) result_.best_valid_ppl = perplexity(model_, valid_rows_, plan_, r_.bptt, r_.eval_batches);
    result_.seconds = elapsed();
    result_.finished = true;
    return result_;
  }

 private:
  loop::StepStats step() {
    const auto window = windows_.next();
    const auto batch = token_batch(train_rows_, window.start, window.length);
    model_->zero_grad();
    auto loss = lm_loss(model_, batch, hidden_, plan_, r_.ar, r_.tar);
    loss.loss.backward();
    clipped_sgd_step(params_, r_.lr * static_cast<double>(window.length) / static_cast<double>(r_.bptt),
                     r_.weight_decay, r_.clip);
    if (asgd_.active()) asgd_.update(params_);
    hidden_ = loss.hidden;
    return {token_stats(loss.nll, batch.target.numel()), std::nullopt};
  }

  void record_epoch(int64_t epoch, const loop::BatchStats& epoch_sum, double seconds) {
    result_.train_ppl.push_back(std::exp(epoch_sum.loss()));
    // Evaluate (and keep) the averaged weights once ASGD runs.
    std::vector<torch::Tensor> current;
    if (asgd_.active()) {
      current = clone_all(params_);
      copy_into(params_, asgd_.average());
    }
    const double val = perplexity(model_, valid_rows_, plan_, r_.bptt, r_.eval_batches);
    if (val < result_.best_valid_ppl) {
      result_.best_valid_ppl = val;
      best_ = clone_all(params_);
    } else if (r_.asgd && !asgd_.active() && static_cast<int>(result_.valid_ppl.size()) > r_.nonmono &&
               val > *std::min_element(result_.valid_ppl.begin(), result_.valid_ppl.end() - r_.nonmono)) {
      spdlog::info("rnn retrain: validation stalled at epoch {}, switching to averaged SGD", epoch + 1);
      asgd_.start(params_);
      result_.asgd_epoch = static_cast<int>(epoch) + 1;
    }
    if (!current.empty()) copy_into(params_, current);
    result_.valid_ppl.push_back(val);
    spdlog::info("rnn retrain epoch {}/{}: train ppl {:.2f}, valid ppl {:.2f}", epoch + 1, r_.epochs,
                 result_.train_ppl.back(), val);
    result_.seconds = seconds;
    windows_.restart();
  }

  RnnTrainCheckpoint snapshot(const RnnLoopState& state) {
    RnnTrainCheckpoint c;
    c.genotype = genotype_text_;
    c.loop = state;
    windows_.save(c.loop);
    c.loop.torch_rng = store::cpu_generator_state();
    c.asgd_epoch = result_.asgd_epoch;
    c.asgd_count = asgd_.active() ? asgd_.count() : -1;
    c.best_valid_ppl = result_.best_valid_ppl;
    c.model = store::module_state(*model_);
    c.best = named(model_, best_);
    if (asgd_.active()) c.average = named(model_, asgd_.average());
    c.hidden = hidden_;
    c.train_ppl = result_.train_ppl;
    c.valid_ppl = result_.valid_ppl;
    return c;
  }

  RnnLoopState restore(const RnnTrainCheckpoint& c) {
    const auto& where = r_.checkpoint;
    if (c.genotype != genotype_text_)
      fail("checkpoint of another genotype (" + c.genotype + ")", where,
           "resume the run that wrote it, or start a new out_dir");
    store::load_module_state(*model_, c.model, where);
    best_ = unnamed(model_, c.best, where);
    if (c.asgd_count >= 0) asgd_.restore(unnamed(model_, c.average, where), c.asgd_count);
    store::restore_cpu_generator_state(c.loop.torch_rng);
    windows_.restore(c.loop);
    hidden_ = c.hidden;
    result_.train_ppl = c.train_ppl;
    result_.valid_ppl = c.valid_ppl;
    result_.best_valid_ppl = c.best_valid_ppl;
    result_.asgd_epoch = c.asgd_epoch;
    result_.seconds = c.loop.position.seconds_before;
    return c.loop;
  }

  const RnnRetrainSettings& r_;
  const CellPlan plan_;
  const std::string genotype_text_;
  RnnLanguageModel model_;
  std::vector<torch::Tensor> params_;
  torch::Tensor train_rows_;
  BpttWindows windows_;  // over train_rows_
  torch::Tensor valid_rows_, test_rows_;
  std::vector<torch::Tensor> best_;  // the best-validation weights
  IterateAverage asgd_;
  torch::Tensor hidden_;
  RnnTrainResult result_;
};

}  // namespace

RnnModelConfig retrain_model_config(const RnnRetrainSettings& r, int64_t vocab, int steps) {
  RnnModelConfig m;
  m.vocab = vocab;
  m.hidden = r.hidden;
  m.steps = steps;
  m.node_bn = false;
  m.dropout = r.dropout;
  m.dropout_h = r.dropout_h;
  m.dropout_x = r.dropout_x;
  m.dropout_i = r.dropout_i;
  m.dropout_e = r.dropout_e;
  m.precision = r.precision;
  return m;
}

RnnTrainResult train_rnn(const Corpus& corpus, const RnnGenotype& genotype, const RnnRetrainSettings& r, bool progress,
                         const RnnTrainCallback& on_epoch) {
  RnnRetrain retrain(corpus, genotype, r);
  return retrain.run(progress, on_epoch);
}

}  // namespace dnas::lm
