#pragma once
// Checkpoints of `dnas rnn` (search: checkpoint.h5, retrain: retrain_checkpoint.h5).
// The state of a recurrent search at an epoch boundary (checkpoint.h5 of `dnas rnn search`):
// weights, alphas and their Adam moments, both RNG states, the carried hidden states and the
// history so far. Resuming from it continues bit-identically to an uninterrupted run.
#include <cstdint>
#include <string>
#include <vector>

#include "dnas/store/module_state.h"

namespace dnas::lm {

struct RnnSearchCheckpoint {
  std::string method;
  uint64_t seed = 0;
  int epochs_done = 0;
  int64_t weight_steps = 0, edge_evaluations = 0, weight_step_evaluations = 0, weight_step_positions = 0;
  double seconds = 0, step_seconds_total = 0;
  store::NamedTensors model, arch_adam;
  torch::Tensor alpha, torch_rng, hidden, hidden_arch;
  std::string sequence_rng;  // std::mt19937_64 state as text
  std::vector<double> train_ppl, valid_ppl;
  std::vector<std::string> genotypes;
  std::vector<torch::Tensor> alphas;
};

// The state of a retrain at an epoch boundary: weights, the best-validation weights, the ASGD
// average, both RNG states, the hidden state and the history.
struct RnnTrainCheckpoint {
  std::string genotype;
  int epochs_done = 0;
  int asgd_epoch = -1;
  int64_t asgd_count = -1;       // iterates averaged so far; -1 = still plain SGD
  double best_valid_ppl = 0, seconds = 0;
  store::NamedTensors model, best, average;
  torch::Tensor torch_rng, hidden;
  std::string sequence_rng;
  std::vector<double> train_ppl, valid_ppl;
};

// Atomic (temporary + rename): a good checkpoint survives any failure.
void write_rnn_search_checkpoint(const std::string& path, const RnnSearchCheckpoint& c);
// Throws naming the file when it is missing, damaged or not a recurrent-search checkpoint.
RnnSearchCheckpoint read_rnn_search_checkpoint(const std::string& path);
void write_rnn_train_checkpoint(const std::string& path, const RnnTrainCheckpoint& c);
RnnTrainCheckpoint read_rnn_train_checkpoint(const std::string& path);

}  // namespace dnas::lm
