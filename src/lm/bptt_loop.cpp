#include "dnas/lm/bptt_loop.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "dnas/lm/lm_steps.h"

namespace dnas::lm {

BpttWindow BpttWindows::next() {
  BpttWindow w{start_, sample_seq_len(rng_, bptt_)};
  start_ += w.length;
  return w;
}

void BpttWindows::save(RnnLoopState& state) const {
  state.window_start = start_;
  std::ostringstream rng;
  rng << rng_;
  state.sequence_rng = rng.str();
}

void BpttWindows::restore(const RnnLoopState& state) {
  start_ = state.window_start;
  std::istringstream rng(state.sequence_rng);
  rng >> rng_;
}

loop::EpochLoop bptt_epoch_loop(const std::string& name, int64_t epochs, int64_t steps_per_epoch, BpttWindows& windows,
                                comm::ProcessGroup& solo, bool progress, const std::string& checkpoint_path,
                                int64_t stop_after_steps) {
  constexpr double kLogPeriodSeconds = 10.0;
  loop::EpochLoop l;
  l.name = name;
  l.epochs = epochs;
  l.steps_per_epoch = steps_per_epoch > 0 ? steps_per_epoch : std::numeric_limits<int64_t>::max();
  l.expected_steps = steps_per_epoch > 0 ? steps_per_epoch : windows.expected_per_epoch();
  l.stop_after_steps = stop_after_steps;
  l.log_period_s = kLogPeriodSeconds;
  l.progress = progress;
  l.checkpoint_path = checkpoint_path;
  l.group = &solo;
  l.more_steps = [&windows] { return windows.more(); };
  l.describe = [](const loop::BatchStats& s) { return "ppl " + std::to_string(std::exp(s.loss())); };
  return l;
}

loop::BatchStats token_stats(double mean_nll, int64_t tokens) {
  loop::BatchStats s;
  s.loss_sum = mean_nll * static_cast<double>(tokens);
  s.count = tokens;
  return s;
}

}  // namespace dnas::lm
