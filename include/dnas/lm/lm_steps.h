#pragma once
// The pieces shared by the recurrent search and the retrain: the batch loss with activation
// regularisation, the reference's randomised sequence length, the clipped SGD step and the
// perplexity of a split.
#include <cstdint>
#include <random>
#include <vector>

#include "dnas/lm/corpus.h"
#include "dnas/lm/rnn_model.h"

namespace dnas::lm {

struct BatchLoss {
  torch::Tensor loss;    // NLL + ar * mean(dropped^2) + tar * mean((h_t - h_{t-1})^2)
  double nll = 0;        // mean NLL per token
  torch::Tensor hidden;  // detached, for the next batch
};
BatchLoss lm_loss(RnnLanguageModel& model, const TokenBatch& batch, const torch::Tensor& hidden, const CellPlan& plan,
                  double ar = 0, double tar = 0);

// bptt with probability 0.95, else bptt/2; then ~N(that, 5), at least 5 (or bptt when smaller)
// and at most bptt + 20, as the reference.
int64_t sample_seq_len(std::mt19937_64& rng, int64_t bptt);

// Clips the global gradient norm to `clip` (0 = off), then p -= lr * (grad + weight_decay * p).
void clipped_sgd_step(const std::vector<torch::Tensor>& params, double lr, double weight_decay, double clip);

// exp(mean NLL per token) over a batchified split in eval mode; max_batches 0 = all.
double perplexity(RnnLanguageModel& model, const torch::Tensor& rows, const CellPlan& plan, int64_t bptt,
                  int64_t max_batches = 0);

}  // namespace dnas::lm
