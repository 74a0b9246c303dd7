#pragma once
// The epoch loop shared by the search and the retrain: stop agreement across the group, the
// checkpoint at a stop (step granularity) and at every epoch end, the results file's status
// (running / interrupted / failed), progress, the check for a non-finite loss, and the epoch-end
// synchronisation of a data-parallel group (BN statistics broadcast, replica identity checks).
// The caller supplies the step and what happens at the ends of an epoch. The steps come from a
// batch stream (image search and retrain) or, without one, from the caller, who says when an
// epoch has no more (the recurrent space's BPTT windows of random length).
#include <torch/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dnas/comm/process_group.h"
#include "dnas/data/batch_stream.h"
#include "dnas/loop/batch_stats.h"
#include "dnas/loop/run_settings.h"

namespace dnas::loop {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Where a run stands; checkpoints store it, so a resumed run continues at the next step.
struct LoopPosition {
  int64_t epoch = 0, step = 0;        // next step to run
  double epoch_seconds_before = 0.0;  // time already spent in the current epoch
  double seconds_before = 0.0;        // wall time of earlier invocations
  double seconds = 0.0;               // total wall time when saved
};

// What one step reports, summed over the group by the loop: the weight step's statistics and,
// for a search, the architecture step's.
struct StepStats {
  BatchStats train;
  std::optional<BatchStats> val;
};

// The error raised (on every rank alike) when a step's loss is not finite.
struct NonFiniteLoss {
  std::string what;  // "training loss (weight step)"
  std::string where;
  std::string hint;
};

// Tensors that must be equal on every rank of the group at an epoch end.
struct Replica {
  std::string what;  // "supernet weights"
  std::vector<torch::Tensor> tensors;
};

using ResultsWriter = std::function<void(const std::string& status, const std::string& error)>;

struct EpochLoop {
  std::string name;  // "search", "train": prefixes the stop message
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;   // at most; an epoch also ends when the stream (or more_steps) runs out
  int64_t expected_steps = 0;    // the progress bar's total when steps_per_epoch is only a cap (0 = steps_per_epoch)
  int64_t stop_after_steps = 0;  // run.stop_after_steps: stop as if asked after this many steps (0 = never)
  double log_period_s = 10.0;
  bool progress = true;
  std::string checkpoint_path;  // named in the stop message
  comm::ProcessGroup* group = nullptr;
  data::BatchStream* stream = nullptr;  // the training batches; null: see more_steps
  // Without a stream: whether the epoch has another step. The step then gets an empty batch and
  // reads its own input; its position is part of the caller's checkpoint.
  std::function<bool()> more_steps;
  NonFiniteLoss train_loss_error, val_loss_error;
  BatchStats* train_sum = nullptr;  // the epoch's statistics so far (part of the checkpointed state)
  BatchStats* val_sum = nullptr;    // needed when the step reports `val`

  std::function<void(int64_t epoch)> begin_epoch;  // optional: before the stream is sought to (epoch, step)
  std::function<StepStats(const data::Batch& batch)> step;
  std::function<void()> after_steps;  // optional: before the group synchronises
  // Optional: the progress line's figures from the epoch's statistics so far (default: loss and accuracy).
  std::function<std::string(const BatchStats& epoch_so_far)> describe;
  std::function<std::vector<torch::Tensor>()> buffers;  // broadcast from rank 0 at an epoch end
  std::function<std::vector<Replica>()> replicas;       // checked identical across ranks at an epoch end
  // After the synchronisation: evaluate and record the epoch; `epoch_seconds()` is its time so far.
  std::function<void(int64_t epoch, const std::function<double()>& epoch_seconds)> end_epoch;
  std::function<void()> save;  // writes the checkpoint of the current position
  ResultsWriter write_results;
};

// A loop named `name` of `epochs` epochs over `stream` for a run with `run`'s settings, taking
// `steps_per_epoch` steps an epoch (0 = the whole stream; never more than the stream's batches).
// The caller adds the step, the hooks and the statistics.
EpochLoop epoch_loop(const std::string& name, int64_t epochs, int64_t steps_per_epoch, data::BatchStream& stream,
                     comm::ProcessGroup& group, const RunSettings& run, const std::string& checkpoint_path);

// Runs epochs position.epoch .. loop.epochs - 1 from position.step. On a stop request (agreed by
// the group) it checkpoints, writes results "interrupted" and throws core::Interrupted; at each
// epoch end it checkpoints the start of the next epoch and writes results "running".
void run_epochs(const EpochLoop& loop, LoopPosition& position);

// Runs `body`; when it throws an error, the results file records "failed" with it first.
template <class Body>
auto recording_failure(const ResultsWriter& write_results, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    write_results("failed", e.what());
    throw;
  }
}

}  // namespace dnas::loop
