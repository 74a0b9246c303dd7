#pragma once
// The recurrent search and retrain on the shared epoch loop (loop::run_epochs): each step trains
// on the next window of the token rows, of the reference's random BPTT length, so an epoch's
// step count is known only at its end.
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>

#include "dnas/comm/process_group.h"
#include "dnas/lm/rnn_checkpoint.h"
#include "dnas/loop/epoch_loop.h"

namespace dnas::lm {

struct BpttWindow {
  int64_t start = 0;   // first token row
  int64_t length = 0;  // sequence length drawn by sample_seq_len
};

// The training windows of an epoch over batchified rows [R, B], from row 0 until 2 rows before
// the end (as the reference).
class BpttWindows {
 public:
  BpttWindows(torch::Tensor rows, int64_t bptt, uint64_t seed) : rows_(std::move(rows)), bptt_(bptt), rng_(seed) {}
  bool more() const { return start_ < rows_.size(0) - 2; }
  BpttWindow next();                                                    // draws the length and moves past the window
  void restart() { start_ = 0; }                                        // the next epoch starts at row 0
  int64_t expected_per_epoch() const { return rows_.size(0) / bptt_; }  // for the progress bar
  // Checkpoint state: the next window's start and the length generator.
  void save(RnnLoopState& state) const;
  void restore(const RnnLoopState& state);

 private:
  torch::Tensor rows_;
  int64_t bptt_;
  int64_t start_ = 0;
  std::mt19937_64 rng_;
};

// A loop named `name` ("rnn search") of `epochs` epochs over `windows` in one process, at most
// `steps_per_epoch` steps each (0 = every window), stopping as if asked after `stop_after_steps`
// steps (0 = never). The caller adds the step, the epoch-end record, save and the results hook.
loop::EpochLoop bptt_epoch_loop(const std::string& name, int64_t epochs, int64_t steps_per_epoch, BpttWindows& windows,
                                comm::ProcessGroup& solo, bool progress, const std::string& checkpoint_path,
                                int64_t stop_after_steps);

// A step's statistics for the loop: the NLL summed over the window's target tokens.
loop::BatchStats token_stats(double mean_nll, int64_t tokens);

}  // namespace dnas::lm
