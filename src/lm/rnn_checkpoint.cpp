#include "dnas/lm/rnn_checkpoint.h"

#include <torch/torch.h>

#include "dnas/store/checkpoint_file.h"

namespace dnas::lm {
namespace {

constexpr const char* kKind = "rnn_search";

std::string join_lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = s.find('\n', start)) != std::string::npos; start = end + 1)
    out.push_back(s.substr(start, end - start));
  return out;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto d = t.to(torch::kDouble).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

void put_loop_state(store::Checkpoint& f, const RnnLoopState& s) {
  f.text["sequence_rng"] = s.sequence_rng;
  f.numbers["epochs_done"] = static_cast<double>(s.position.epoch);
  f.numbers["step"] = static_cast<double>(s.position.step);
  f.numbers["epoch_seconds_before"] = s.position.epoch_seconds_before;
  f.numbers["seconds"] = s.position.seconds;
  f.numbers["window_start"] = static_cast<double>(s.window_start);
  f.numbers["epoch_nll_sum"] = s.epoch_sum.loss_sum;
  f.numbers["epoch_tokens"] = static_cast<double>(s.epoch_sum.count);
  f.tensors.emplace_back("rng/torch", s.torch_rng);
}

// Checkpoints of earlier versions were written at epoch ends only and lack the step's fields.
RnnLoopState get_loop_state(const store::Checkpoint& f) {
  const auto number_or_zero = [&](const std::string& key) { return f.numbers.count(key) ? f.number(key) : 0.0; };
  RnnLoopState s;
  s.sequence_rng = f.string("sequence_rng");
  s.position.epoch = static_cast<int64_t>(f.number("epochs_done"));
  s.position.step = static_cast<int64_t>(number_or_zero("step"));
  s.position.epoch_seconds_before = number_or_zero("epoch_seconds_before");
  s.position.seconds_before = f.number("seconds");
  s.window_start = static_cast<int64_t>(number_or_zero("window_start"));
  s.epoch_sum.loss_sum = number_or_zero("epoch_nll_sum");
  s.epoch_sum.count = static_cast<int64_t>(number_or_zero("epoch_tokens"));
  s.torch_rng = f.tensor("rng/torch");
  return s;
}

}  // namespace

void write_rnn_search_checkpoint(const std::string& path, const RnnSearchCheckpoint& c) {
  store::Checkpoint f;
  f.kind = kKind;
  f.text = {{"method", c.method}, {"genotypes", join_lines(c.genotypes)}};
  f.numbers = {{"seed", static_cast<double>(c.seed)},
               {"weight_steps", static_cast<double>(c.weight_steps)},
               {"edge_evaluations", static_cast<double>(c.edge_evaluations)},
               {"weight_step_evaluations", static_cast<double>(c.weight_step_evaluations)},
               {"weight_step_positions", static_cast<double>(c.weight_step_positions)},
               {"step_seconds_total", c.step_seconds_total}};
  put_loop_state(f, c.loop);
  store::append_prefixed(f.tensors, "model", c.model);
  store::append_prefixed(f.tensors, "arch_adam", c.arch_adam);
  f.tensors.emplace_back("alpha", c.alpha);
  f.tensors.emplace_back("hidden/train", c.hidden);
  f.tensors.emplace_back("hidden/arch", c.hidden_arch);
  f.tensors.emplace_back("history/train_ppl", torch::tensor(c.train_ppl, torch::kDouble));
  f.tensors.emplace_back("history/valid_ppl", torch::tensor(c.valid_ppl, torch::kDouble));
  if (!c.alphas.empty()) f.tensors.emplace_back("history/alphas", torch::stack(c.alphas));
  store::write_checkpoint(path, f);
}

RnnSearchCheckpoint read_rnn_search_checkpoint(const std::string& path) {
  const auto f = store::read_checkpoint(path, kKind);
  RnnSearchCheckpoint c;
  c.method = f.string("method");
  c.genotypes = split_lines(f.string("genotypes"));
  c.seed = static_cast<uint64_t>(f.number("seed"));
  c.loop = get_loop_state(f);
  c.weight_steps = static_cast<int64_t>(f.number("weight_steps"));
  c.edge_evaluations = static_cast<int64_t>(f.number("edge_evaluations"));
  // Statistics that checkpoints of earlier versions lack: counted from the resume on.
  if (f.numbers.count("weight_step_evaluations")) {
    c.weight_step_evaluations = static_cast<int64_t>(f.number("weight_step_evaluations"));
    c.weight_step_positions = static_cast<int64_t>(f.number("weight_step_positions"));
  }
  c.step_seconds_total = f.number("step_seconds_total");
  c.model = store::with_prefix(f.tensors, "model");
  c.arch_adam = store::with_prefix(f.tensors, "arch_adam");
  c.alpha = f.tensor("alpha");
  c.hidden = f.tensor("hidden/train");
  c.hidden_arch = f.tensor("hidden/arch");
  c.train_ppl = to_vector(f.tensor("history/train_ppl"));
  c.valid_ppl = to_vector(f.tensor("history/valid_ppl"));
  if (c.loop.position.epoch > 0) {
    const auto a = f.tensor("history/alphas");
    for (int64_t e = 0; e < a.size(0); ++e) c.alphas.push_back(a[e].clone());
  }
  return c;
}

void write_rnn_train_checkpoint(const std::string& path, const RnnTrainCheckpoint& c) {
  store::Checkpoint f;
  f.kind = "rnn_train";
  f.text = {{"genotype", c.genotype}};
  f.numbers = {{"asgd_epoch", c.asgd_epoch},
               {"asgd_count", static_cast<double>(c.asgd_count)},
               {"best_valid_ppl", c.best_valid_ppl}};
  put_loop_state(f, c.loop);
  store::append_prefixed(f.tensors, "model", c.model);
  store::append_prefixed(f.tensors, "best", c.best);
  store::append_prefixed(f.tensors, "average", c.average);
  f.tensors.emplace_back("hidden", c.hidden);
  f.tensors.emplace_back("history/train_ppl", torch::tensor(c.train_ppl, torch::kDouble));
  f.tensors.emplace_back("history/valid_ppl", torch::tensor(c.valid_ppl, torch::kDouble));
  store::write_checkpoint(path, f);
}

RnnTrainCheckpoint read_rnn_train_checkpoint(const std::string& path) {
  const auto f = store::read_checkpoint(path, "rnn_train");
  RnnTrainCheckpoint c;
  c.genotype = f.string("genotype");
  c.loop = get_loop_state(f);
  c.asgd_epoch = static_cast<int>(f.number("asgd_epoch"));
  c.asgd_count = static_cast<int64_t>(f.number("asgd_count"));
  c.best_valid_ppl = f.number("best_valid_ppl");
  c.model = store::with_prefix(f.tensors, "model");
  c.best = store::with_prefix(f.tensors, "best");
  c.average = store::with_prefix(f.tensors, "average");
  c.hidden = f.tensor("hidden");
  c.train_ppl = to_vector(f.tensor("history/train_ppl"));
  c.valid_ppl = to_vector(f.tensor("history/valid_ppl"));
  return c;
}

}  // namespace dnas::lm
