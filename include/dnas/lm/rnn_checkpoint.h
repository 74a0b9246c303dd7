#pragma once
// Checkpoints of `dnas rnn` (search: checkpoint.h5, retrain: retrain_checkpoint.h5), written at
// every epoch end and at a stop (any step). Resuming from one continues bit-identically to an
// uninterrupted run.
#include <cstdint>
#include <string>
#include <vector>

#include "dnas/loop/batch_stats.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/store/module_state.h"

namespace dnas::lm {

// Where a recurrent run's epoch loop stands, and what its next training window depends on.
struct RnnLoopState {
  loop::LoopPosition position;  // the next epoch and step; wall times
  int64_t window_start = 0;     // first token row of the next training window
  loop::BatchStats epoch_sum;   // the epoch's NLL summed over tokens, and its tokens, so far
  torch::Tensor torch_rng;
  std::string sequence_rng;  // the window lengths' std::mt19937_64 state as text
};

// A search: weights, alphas and their Adam moments, the carried hidden states, counters and the
// history so far.
struct RnnSearchCheckpoint {
  std::string method;
  uint64_t seed = 0;
  RnnLoopState loop;
  int64_t weight_steps = 0, edge_evaluations = 0, weight_step_evaluations = 0, weight_step_positions = 0;
  double step_seconds_total = 0;
  store::NamedTensors model, arch_adam;
  torch::Tensor alpha, hidden, hidden_arch;
  std::vector<double> train_ppl, valid_ppl;
  std::vector<std::string> genotypes;
  std::vector<torch::Tensor> alphas;
};

// A retrain: weights, the best-validation weights, the ASGD average, the hidden state and the
// history.
struct RnnTrainCheckpoint {
  std::string genotype;
  RnnLoopState loop;
  int asgd_epoch = -1;
  int64_t asgd_count = -1;  // iterates averaged so far; -1 = still plain SGD
  double best_valid_ppl = 0;
  store::NamedTensors model, best, average;
  torch::Tensor hidden;
  std::vector<double> train_ppl, valid_ppl;
};

// Atomic (temporary + rename): a good checkpoint survives any failure.
void write_rnn_search_checkpoint(const std::string& path, const RnnSearchCheckpoint& c);
// Throws naming the file when it is missing, damaged or not a recurrent-search checkpoint.
RnnSearchCheckpoint read_rnn_search_checkpoint(const std::string& path);
void write_rnn_train_checkpoint(const std::string& path, const RnnTrainCheckpoint& c);
RnnTrainCheckpoint read_rnn_train_checkpoint(const std::string& path);

}  // namespace dnas::lm
