#include "dnas/lm/lm_steps.h"

#include <torch/torch.h>

#include <cmath>

namespace dnas::lm {

BatchLoss lm_loss(RnnLanguageModel& model, const TokenBatch& batch, const torch::Tensor& hidden, const CellPlan& plan,
                  double ar, double tar) {
  auto f = model->forward(batch.input, hidden, plan);
  const auto nll = torch::nll_loss(f.log_probs, batch.target);
  auto loss = nll;
  if (ar > 0) loss = loss + ar * f.dropped.pow(2).mean();
  if (tar > 0 && f.outputs.size(0) > 1)
    loss = loss + tar * (f.outputs.slice(0, 1) - f.outputs.slice(0, 0, -1)).pow(2).mean();
  return {loss, nll.item<double>(), f.hidden.detach()};
}

int64_t sample_seq_len(std::mt19937_64& rng, int64_t bptt) {
  constexpr double kLongProbability = 0.95, kStd = 5.0;
  constexpr int64_t kMinLen = 5, kMaxDelta = 20;  // the reference's max_seq_len_delta
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double base = uniform(rng) < kLongProbability ? static_cast<double>(bptt) : static_cast<double>(bptt) / 2;
  std::normal_distribution<double> normal(base, kStd);
  const int64_t len = std::max(std::min(kMinLen, bptt), static_cast<int64_t>(normal(rng)));
  return std::min(len, bptt + kMaxDelta);
}

void clipped_sgd_step(const std::vector<torch::Tensor>& params, double lr, double weight_decay, double clip) {
  if (clip > 0) torch::nn::utils::clip_grad_norm_(params, clip);
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    auto g = p.grad();
    if (weight_decay != 0) g = g + weight_decay * p;
    p.sub_(lr * g);
  }
}

double perplexity(RnnLanguageModel& model, const torch::Tensor& rows, const CellPlan& plan, int64_t bptt,
                  int64_t max_batches) {
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  auto hidden = model->init_hidden(rows.size(1));
  double nll = 0;
  int64_t tokens = 0, n = 0;
  for (int64_t i = 0; i < rows.size(0) - 1 && (max_batches == 0 || n < max_batches); i += bptt, ++n) {
    const auto b = token_batch(rows, i, bptt);
    const auto f = model->forward(b.input, hidden, plan);
    nll += torch::nll_loss(f.log_probs, b.target, {}, at::Reduction::Sum).item<double>();
    tokens += b.target.numel();
    hidden = f.hidden;
  }
  model->train(was_training);
  return std::exp(nll / static_cast<double>(tokens));
}

}  // namespace dnas::lm
