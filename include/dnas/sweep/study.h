#pragma once
// A study: a grid of experiments run by one job. Its work items (an experiment's search and
// each eval seed's retrain) are handed out one at a time to whichever worker is free (methods
// differ several-fold in cost), each experiment writes its own file, and re-running a study
// skips finished experiments and resumes interrupted ones.
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
  int finished = 0, failed = 0, skipped = 0;  // experiments (counted from their records)
  double wall_seconds = 0.0;                  // of the whole study
  double busy_seconds = 0.0;                  // summed over workers: time spent running work items (not waiting)
  int workers = 1;
  double efficiency() const { return wall_seconds > 0 ? busy_seconds / (wall_seconds * workers) : 0.0; }
};

// Hands out work-item indices (into plan_work_items): next() returns the next one to run, or -1
// when none is left. The MPI queue draws from a counter shared by every rank.
class WorkQueue {
 public:
  virtual ~WorkQueue() = default;
  virtual int next() = 0;
};

// Runs the work items this process (with the other ranks of its group) is handed; returns this
// process's wall and busy time. Every rank of the group calls it together.
StudySummary run_study(const StudyConfig& study, const std::vector<Experiment>& experiments, WorkQueue& queue,
                       std::shared_ptr<comm::ProcessGroup> group = comm::solo_group());

// The experiments' records in out_dir: how many say finished and how many failed.
std::pair<int, int> count_records(const std::string& out_dir, const std::vector<Experiment>& experiments);

// Items drawn from a counter shared by every rank: each free rank takes the next index.
class SharedQueue : public WorkQueue {
 public:
  SharedQueue(comm::SharedCounter& counter, int count) : counter_(counter), count_(count) {}
  int next() override {
    const int64_t i = counter_.fetch_add(1);
    return i < count_ ? static_cast<int>(i) : -1;
  }

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

 private:
  WorkQueue& inner_;
  comm::ProcessGroup& group_;
};

// Given items in order (one experiment's, for job arrays: `dnas sweep --only INDEX`).
class ListQueue : public WorkQueue {
 public:
  explicit ListQueue(std::vector<int> items) : items_(std::move(items)) {}
  int next() override { return next_ < items_.size() ? items_[next_++] : -1; }

 private:
  std::vector<int> items_;
  size_t next_ = 0;
};

}  // namespace dnas::sweep
