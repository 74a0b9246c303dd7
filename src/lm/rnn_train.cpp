#include "dnas/lm/rnn_train.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <limits>
#include <map>

#include "dnas/core/log.h"
#include "dnas/core/progress.h"
#include "dnas/core/signals.h"
#include "dnas/core/error.h"
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
  return m;
}

RnnTrainResult train_rnn(const Corpus& corpus, const RnnGenotype& genotype, const RnnRetrainSettings& r, bool progress,
                         const RnnTrainCallback& on_epoch) {
  const auto start = std::chrono::steady_clock::now();
  torch::manual_seed(r.seed);
  std::mt19937_64 rng(r.seed);
  RnnLanguageModel model(retrain_model_config(r, corpus.vocab_size(), static_cast<int>(genotype.recurrent.size())));
  const auto params = model->parameters();
  const auto plan = CellPlan::fixed(genotype);
  const auto train_rows = batchify(corpus.train, r.batch_size, "train");
  const auto valid_rows = batchify(corpus.valid, r.eval_batch_size, "valid");
  const auto test_rows = batchify(corpus.test, r.test_batch_size, "test");

  RnnTrainResult result;
  result.genotype = genotype;
  result.params = parameter_count(model);
  result.best_valid_ppl = std::numeric_limits<double>::infinity();
  std::vector<torch::Tensor> best = clone_all(params);
  IterateAverage asgd;
  auto hidden = model->init_hidden(r.batch_size);
  int first_epoch = 0;
  double seconds_before = 0;
  const auto text = format_rnn_genotype(genotype);
  if (r.resume && !r.checkpoint.empty() && std::filesystem::exists(r.checkpoint)) {
    const auto c = read_rnn_train_checkpoint(r.checkpoint);
    if (c.genotype != text)
      fail("checkpoint of another genotype (" + c.genotype + ")", r.checkpoint, "resume the run that wrote it, or start a new out_dir");
    store::load_module_state(*model, c.model, r.checkpoint);
    best = unnamed(model, c.best, r.checkpoint);
    if (c.asgd_count >= 0) asgd.restore(unnamed(model, c.average, r.checkpoint), c.asgd_count);
    store::restore_cpu_generator_state(c.torch_rng);
    hidden = c.hidden;
    std::istringstream state(c.sequence_rng);
    state >> rng;
    result.train_ppl = c.train_ppl;
    result.valid_ppl = c.valid_ppl;
    result.best_valid_ppl = c.best_valid_ppl;
    result.asgd_epoch = c.asgd_epoch;
    first_epoch = c.epochs_done;
    seconds_before = c.seconds;
    spdlog::info("rnn retrain: resumed from {} after epoch {}", r.checkpoint, first_epoch);
  }
  const auto save = [&](int epochs_done) {
    RnnTrainCheckpoint c;
    c.genotype = text;
    c.epochs_done = epochs_done;
    c.asgd_epoch = result.asgd_epoch;
    c.asgd_count = asgd.active() ? asgd.count() : -1;
    c.best_valid_ppl = result.best_valid_ppl;
    c.seconds = result.seconds;
    c.model = store::module_state(*model);
    c.best = named(model, best);
    if (asgd.active()) c.average = named(model, asgd.average());
    c.torch_rng = store::cpu_generator_state();
    c.hidden = hidden;
    std::ostringstream state;
    state << rng;
    c.sequence_rng = state.str();
    c.train_ppl = result.train_ppl;
    c.valid_ppl = result.valid_ppl;
    write_rnn_train_checkpoint(r.checkpoint, c);
  };
  for (int epoch = first_epoch; epoch < r.epochs; ++epoch) {
    const int64_t rows = train_rows.size(0);
    core::Progress bar("retrain epoch " + std::to_string(epoch + 1) + "/" + std::to_string(r.epochs),
                       r.steps_per_epoch > 0 ? r.steps_per_epoch : rows / r.bptt, 10.0, progress);
    double nll = 0;
    int64_t tokens = 0, step = 0;
    model->train();
    for (int64_t i = 0; i < rows - 2 && (r.steps_per_epoch == 0 || step < r.steps_per_epoch); ++step) {
      if (core::stop_requested()) throw core::Interrupted{};  // SIGTERM/SIGUSR1: results.h5 keeps finished epochs
      const int64_t seq_len = sample_seq_len(rng, r.bptt);
      const auto batch = token_batch(train_rows, i, seq_len);
      model->zero_grad();
      auto loss = lm_loss(model, batch, hidden, plan, r.ar, r.tar);
      check_finite(loss.nll, "rnn retrain");
      loss.loss.backward();
      clipped_sgd_step(params, r.lr * static_cast<double>(seq_len) / static_cast<double>(r.bptt), r.weight_decay, r.clip);
      if (asgd.active()) asgd.update(params);
      hidden = loss.hidden;
      nll += loss.nll * static_cast<double>(batch.target.numel());
      tokens += batch.target.numel();
      i += seq_len;
      bar.update(step + 1, "ppl " + std::to_string(std::exp(nll / static_cast<double>(tokens))));
    }
    bar.finish();
    result.train_ppl.push_back(std::exp(nll / static_cast<double>(std::max<int64_t>(tokens, 1))));
    // Evaluate (and keep) the averaged weights once ASGD runs.
    std::vector<torch::Tensor> current;
    if (asgd.active()) {
      current = clone_all(params);
      copy_into(params, asgd.average());
    }
    const double val = perplexity(model, valid_rows, plan, r.bptt, r.eval_batches);
    if (val < result.best_valid_ppl) {
      result.best_valid_ppl = val;
      best = clone_all(params);
    } else if (r.asgd && !asgd.active() && static_cast<int>(result.valid_ppl.size()) > r.nonmono &&
               val > *std::min_element(result.valid_ppl.begin(), result.valid_ppl.end() - r.nonmono)) {
      spdlog::info("rnn retrain: validation stalled at epoch {}, switching to averaged SGD", epoch + 1);
      asgd.start(params);
      result.asgd_epoch = epoch + 1;
    }
    if (!current.empty()) copy_into(params, current);
    result.valid_ppl.push_back(val);
    spdlog::info("rnn retrain epoch {}/{}: train ppl {:.2f}, valid ppl {:.2f}", epoch + 1, r.epochs, result.train_ppl.back(), val);
    result.seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.checkpoint.empty()) save(epoch + 1);
    if (on_epoch) on_epoch(result);
  }
  copy_into(params, best);
  result.test_ppl = perplexity(model, test_rows, plan, r.bptt);
  if (r.epochs == 0) result.best_valid_ppl = perplexity(model, valid_rows, plan, r.bptt, r.eval_batches);
  result.seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.finished = true;
  return result;
}

}  // namespace dnas::lm
