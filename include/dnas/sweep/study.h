#pragma once
// A study: a grid of experiments run by one job. Experiments are handed out one at a time to
// whichever worker is free (methods differ several-fold in cost), each experiment writes its
// own file, and re-running a study skips finished experiments and resumes interrupted ones.
#include <functional>
#include <string>
#include <vector>

#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"
#include "dnas/sweep/experiment.h"

namespace dnas::sweep {

struct StudyConfig {
  std::string name = "study";          // study.name: the report's title
  std::string out_dir = "runs/study";  // study.out_dir: one <id>.h5 per experiment, work dirs <id>/
  int64_t ranks_per_experiment = 1;    // study.ranks_per_experiment
  std::string baseline;                // study.baseline: the row every other row is tested against
};

struct StudySummary {
  int finished = 0, failed = 0, skipped = 0;
  double wall_seconds = 0.0;  // of the whole study
  double busy_seconds = 0.0;  // summed over workers: time spent inside experiments
  int workers = 1;
  double efficiency() const { return wall_seconds > 0 ? busy_seconds / (wall_seconds * workers) : 0.0; }
};

// Hands out experiment indices: next() returns the next one to run, or -1 when none is left.
// report(index, status, seconds) records a finished one. The single-process queue runs them in
// order; an MPI coordinator implements the same contract across rank groups.
class WorkQueue {
 public:
  virtual ~WorkQueue() = default;
  virtual int next() = 0;
  virtual void report(int index, ExperimentStatus status, double seconds) = 0;
};

// Runs the experiments this process (with the other ranks of its group) is handed; returns the
// summary of this process's share. Counts are the leader's (one per experiment); busy time is
// every rank's own.
StudySummary run_study(const StudyConfig& study, const std::vector<Experiment>& experiments, WorkQueue& queue,
                       std::shared_ptr<comm::ProcessGroup> group = comm::solo_group());

// The queue of a single process: every experiment, in order.
class SequentialQueue : public WorkQueue {
 public:
  explicit SequentialQueue(int count) : count_(count) {}
  int next() override { return next_ < count_ ? next_++ : -1; }
  void report(int, ExperimentStatus, double) override {}

 private:
  int count_, next_ = 0;
};

// Experiments drawn from a counter shared by every rank: each free rank takes the next index.
class SharedQueue : public WorkQueue {
 public:
  SharedQueue(comm::SharedCounter& counter, int count) : counter_(counter), count_(count) {}
  int next() override {
    const int64_t i = counter_.fetch_add(1);
    return i < count_ ? static_cast<int>(i) : -1;
  }
  void report(int, ExperimentStatus, double) override {}

 private:
  comm::SharedCounter& counter_;
  int count_;
};

// A data-parallel group's view of a queue: the leader draws, the other ranks get its index.
class GroupQueue : public WorkQueue {
 public:
  GroupQueue(WorkQueue& inner, comm::ProcessGroup& group) : inner_(inner), group_(group) {}
  int next() override {
    const int mine = group_.leader() ? inner_.next() : 0;
    return group_.size() == 1 ? mine : static_cast<int>(group_.sum({static_cast<double>(mine)})[0]);
  }
  void report(int index, ExperimentStatus status, double seconds) override {
    if (group_.leader()) inner_.report(index, status, seconds);
  }

 private:
  WorkQueue& inner_;
  comm::ProcessGroup& group_;
};

// The queue of one experiment (job arrays: `dnas sweep --only INDEX`).
class SingleQueue : public WorkQueue {
 public:
  explicit SingleQueue(int index) : index_(index) {}
  int next() override { return taken_ ? -1 : (taken_ = true, index_); }
  void report(int, ExperimentStatus, double) override {}

 private:
  int index_;
  bool taken_ = false;
};

}  // namespace dnas::sweep
