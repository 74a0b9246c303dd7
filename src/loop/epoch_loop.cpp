#include "dnas/loop/epoch_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "dnas/core/error.h"
#include "dnas/core/progress.h"
#include "dnas/core/signals.h"

namespace dnas::loop {
namespace {

void check_finite(double loss_sum, const NonFiniteLoss& error, const LoopPosition& at) {
  if (!std::isfinite(loss_sum))
    fail_on_every_rank(fmt::format("{} is not finite at epoch {} step {}", error.what, at.epoch + 1, at.step),
                       error.where, error.hint);
}

// Identical BN statistics (each rank saw only its shards) and a check that the replicas agree.
void synchronise(const EpochLoop& loop, int64_t epoch) {
  auto& group = *loop.group;
  if (group.size() == 1) return;
  group.broadcast(loop.buffers(), 0);
  for (const auto& r : loop.replicas())
    comm::check_identical(group, r.tensors, fmt::format("{} after epoch {}", r.what, epoch + 1));
}

}  // namespace

EpochLoop epoch_loop(const std::string& name, int64_t epochs, int64_t steps_per_epoch, data::BatchStream& stream,
                     comm::ProcessGroup& group, const RunSettings& run, const std::string& checkpoint_path) {
  EpochLoop loop;
  loop.name = name;
  loop.epochs = epochs;
  loop.steps_per_epoch =
      steps_per_epoch > 0 ? std::min(steps_per_epoch, stream.batches_per_epoch()) : stream.batches_per_epoch();
  loop.stop_after_steps = run.stop_after_steps;
  loop.log_period_s = run.log_period_s;
  loop.progress = run.progress;
  loop.checkpoint_path = checkpoint_path;
  loop.group = &group;
  loop.stream = &stream;
  return loop;
}

void run_epochs(const EpochLoop& loop, LoopPosition& position) {
  auto& group = *loop.group;
  int64_t steps_this_run = 0;
  for (; position.epoch < loop.epochs; ++position.epoch) {
    const int64_t epoch = position.epoch;
    const auto epoch_start = Clock::now();
    if (loop.begin_epoch) loop.begin_epoch(epoch);
    if (loop.stream) loop.stream->seek(epoch, position.step);
    core::Progress progress(fmt::format("epoch {}/{}", epoch + 1, loop.epochs),
                            loop.expected_steps > 0 ? loop.expected_steps : loop.steps_per_epoch, loop.log_period_s,
                            loop.progress);
    data::Batch batch;
    const auto next_step = [&] { return loop.stream ? loop.stream->next(batch) : loop.more_steps(); };
    for (; position.step < loop.steps_per_epoch && next_step(); ++position.step) {
      if (group.any(core::stop_requested() || (loop.stop_after_steps > 0 && steps_this_run >= loop.stop_after_steps))) {
        if (loop.stream) loop.stream->seek(epoch, position.step);  // the batch just taken is the first one to run
        position.epoch_seconds_before += seconds_since(epoch_start);
        loop.save();
        spdlog::warn("{}: stop requested; checkpoint written at epoch {} step {} ({})", loop.name, epoch + 1,
                     position.step, loop.checkpoint_path);
        loop.write_results("interrupted", "");
        throw core::Interrupted{};
      }
      auto stats = loop.step(batch);
      stats.train = group_total(group, stats.train);
      check_finite(stats.train.loss_sum, loop.train_loss_error, position);
      if (stats.val) {
        stats.val = group_total(group, *stats.val);
        check_finite(stats.val->loss_sum, loop.val_loss_error, position);
      }
      loop.train_sum->add(stats.train);
      if (stats.val) loop.val_sum->add(*stats.val);
      ++steps_this_run;
      progress.update(position.step + 1, loop.describe ? loop.describe(*loop.train_sum)
                                                       : fmt::format("loss {:.3f} acc {:.1f}%", loop.train_sum->loss(),
                                                                     100 * loop.train_sum->accuracy()));
    }
    progress.finish();
    if (loop.after_steps) loop.after_steps();
    synchronise(loop, epoch);
    const double seconds_before = position.epoch_seconds_before;
    loop.end_epoch(epoch, [&] { return seconds_before + seconds_since(epoch_start); });
    position.step = 0;
    *loop.train_sum = {};
    if (loop.val_sum) *loop.val_sum = {};
    position.epoch_seconds_before = 0.0;
    ++position.epoch;  // the checkpoint resumes at the next epoch
    loop.save();
    --position.epoch;
    loop.write_results("running", "");
  }
}

}  // namespace dnas::loop
