#include "dnas/sweep/experiment.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "dnas/comm/mpi_world.h"
#include "dnas/core/error.h"
#include "dnas/core/file_lock.h"
#include "dnas/core/signals.h"
#include "dnas/search/search_loop.h"
#include "dnas/search/search_results.h"
#include "dnas/store/h5_file.h"
#include "dnas/sweep/experiment_record.h"
#include "dnas/train/trainer.h"

namespace dnas::sweep {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The leader's answer to a yes/no question about shared files, on every rank of the group: the
// ranks must agree (e.g. on whether to resume) even while the leader is writing those files.
bool leader_decides(comm::ProcessGroup& group, bool answer) {
  if (group.size() == 1) return answer;
  return group.sum({group.leader() && answer ? 1.0 : 0.0})[0] > 0;
}

// How the study's lock files report failures.
core::FileLockText study_lock_text() {
  return {"cannot open the lock file", "check that the study's out_dir is writable", "cannot lock",
          "the study's out_dir must be on a file system with flock (on Lustre: mount with -o flock)"};
}

constexpr std::chrono::milliseconds kLockPollInterval{500};  // between attempts on a held search lock

// Takes the lock of a search held by the group's leader while it runs that search: another item
// needing the same search waits (polling, so that a stop request ends the wait), then reuses the
// finished record. False when the wait ended on a stop request.
bool lock_unless_stopped(core::FileLock& lock) {
  for (bool told = false; !lock.try_lock();) {
    if (!told) spdlog::info("sweep: waiting for {} (another group is running that search)", lock.path());
    told = true;
    if (core::stop_requested()) return false;
    std::this_thread::sleep_for(kLockPollInterval);
  }
  return true;
}

// The item's phase in progress, for the failure record.
struct Phase {
  std::string dir, kind;  // empty dir: no phase of this item has started
};

// The experiment's searched cell: the finished record when an earlier item (or an experiment
// with the same search settings) ran it, else this item runs (or resumes) the search.
search::SearchResult obtain_search(const Experiment& e, int seed_slot, const std::string& out_dir,
                                   const std::shared_ptr<comm::ProcessGroup>& group_ptr, double& waited, Phase& phase) {
  auto& group = *group_ptr;
  auto sc = *e.search;
  sc.run.out_dir = group.leader() ? search_dir(e, out_dir) : std::string();
  const bool legacy = leader_decides(group, fs::path(sc.run.out_dir).filename() == "search");
  if (!group.leader())
    sc.run.out_dir = legacy ? (fs::path(out_dir) / e.id / "search").string() : search_dir(e, out_dir);
  if (group.leader()) fs::create_directories(fs::path(sc.run.out_dir).parent_path());
  const auto t0 = Clock::now();
  std::optional<core::FileLock> lock;  // the leader's only
  bool held = false;
  if (group.leader()) {
    lock.emplace(sc.run.out_dir + ".lock", study_lock_text());
    held = lock_unless_stopped(*lock);
  }
  const double leader_wait = group.leader() ? std::chrono::duration<double>(Clock::now() - t0).count() : 0.0;
  waited = group.size() == 1 ? leader_wait : group.sum({leader_wait})[0];
  if (leader_decides(group, group.leader() && !held)) throw core::Interrupted{};
  if (group.leader() && !legacy) adopt_earlier_search_name(sc.run.out_dir, sc.run.method, sc.run.config_text);
  const auto results = (fs::path(sc.run.out_dir) / "results.h5").string();
  if (leader_decides(group, group.leader() && results_status(results) == "failed"))
    throw GroupError("the search " + sc.run.out_dir +
                     " failed in this sweep (its error is in the experiment's record)");
  if (leader_decides(group, finished_phase(sc.run.out_dir, sc.run.config_text))) {
    // Another item ran this search: its record, not a resumed no-op run.
    store::H5File f(results, store::H5File::Mode::Read);
    if (seed_slot == 0) spdlog::info("sweep: {} reuses the finished search {}", e.id, sc.run.out_dir);
    return search::read_search_results(f, "/search");
  }
  sc.run.resume = leader_decides(group, fs::exists(fs::path(sc.run.out_dir) / "checkpoint.h5"));
  sc.run.overwrite = !sc.run.resume;  // the study owns its work dirs: a failed attempt is replaced
  phase = {sc.run.out_dir, "search"};
  return search::run_search(sc, group_ptr);
}

// The retrain of one eval seed (skipped when an earlier sweep finished it with these settings).
void run_seed(const Experiment& e, int seed_slot, const std::optional<search::SearchResult>& searched,
              const std::string& out_dir, const std::shared_ptr<comm::ProcessGroup>& group_ptr, Phase& phase) {
  auto& group = *group_ptr;
  auto tc = e.train;
  tc.run.seed = e.eval_seeds.at(static_cast<size_t>(seed_slot));
  tc.run.out_dir = seed_dir(e, out_dir, tc.run.seed);
  if (leader_decides(group, finished_phase(tc.run.out_dir, tc.run.config_text))) return;
  phase = {tc.run.out_dir, "train"};
  tc.run.resume = leader_decides(group, fs::exists(fs::path(tc.run.out_dir) / "checkpoint.h5"));
  tc.run.overwrite = !tc.run.resume;
  std::optional<train::ResolvedGenotype> cell;  // the searched cell, from memory
  if (searched) {
    const int64_t epoch = tc.model.genotype_epoch, epochs = static_cast<int64_t>(searched->epochs.size());
    if (epoch > epochs)
      fail_on_every_rank("model.genotype_epoch = " + std::to_string(epoch) + " but the search has " +
                             std::to_string(epochs) + " epochs",
                         "retrain.model.genotype_epoch",
                         "use an epoch from 1 to the search's epochs (0 = the final cell)");
    cell = epoch > 0 ? train::ResolvedGenotype{genotype::parse_genotype(
                                                   searched->epochs[static_cast<size_t>(epoch - 1)].genotype),
                                               "the search's cell after epoch " + std::to_string(epoch)}
                     : train::ResolvedGenotype{searched->genotype, "the search's final cell"};
    tc.model.genotype = genotype::to_string(cell->genotype);  // recorded in the retrain's settings
    tc.model.genotype_epoch = 0;
  }
  if (e.eval_layers_from_search && e.search) tc.model.layers = e.search->supernet.layers;
  train::run_training(tc, group_ptr, cell);
}

}  // namespace

std::string experiment_file(const std::string& out_dir, const std::string& id) {
  return (fs::path(out_dir) / (id + ".h5")).string();
}

std::vector<WorkItem> plan_work_items(const std::vector<Experiment>& experiments) {
  size_t slots = 1;
  for (const auto& e : experiments) slots = std::max(slots, e.eval_seeds.size());
  std::vector<WorkItem> items;
  for (size_t slot = 0; slot < slots; ++slot)
    for (size_t i = 0; i < experiments.size(); ++i)
      if (slot < std::max<size_t>(1, experiments[i].eval_seeds.size()))
        items.push_back({static_cast<int>(i), static_cast<int>(slot)});
  return items;
}

ItemOutcome run_work_item(const Experiment& e, int seed_slot, const std::string& out_dir,
                          std::shared_ptr<comm::ProcessGroup> group_ptr) {
  auto& group = *group_ptr;
  ItemOutcome out;
  if (leader_decides(group, group.leader() && results_status(experiment_file(out_dir, e.id)) == "finished")) {
    if (seed_slot == 0) spdlog::info("sweep: {} already finished, skipped", e.id);
    out.status = ExperimentStatus::Skipped;
    return out;
  }
  Phase phase;
  try {
    std::optional<search::SearchResult> searched;
    if (e.search) searched = obtain_search(e, seed_slot, out_dir, group_ptr, out.waited_seconds, phase);
    if (!e.eval_seeds.empty()) run_seed(e, seed_slot, searched, out_dir, group_ptr, phase);
  } catch (const core::Interrupted&) {
    throw;  // the running phase checkpointed; the item resumes on the next sweep
  } catch (const std::exception& ex) {
    // On one rank of a group only (a leader's file write), the others wait in a collective.
    if (group.size() > 1 && dynamic_cast<const GroupError*>(&ex) == nullptr)
      comm::abort_job_if_multi_rank("experiment " + e.id + ": " + ex.what(), 2);
    spdlog::error("sweep: {} failed: {}", e.id, ex.what());
    if (group.leader() && !phase.dir.empty()) record_phase_failure(phase.dir, phase.kind, ex.what());
  }
  const std::string written = group.leader() ? assemble_record(e, out_dir, group.size()) : std::string();
  const auto agreed = group.size() == 1
                          ? std::vector<double>{written == "finished" ? 1.0 : 0.0, written == "failed" ? 1.0 : 0.0}
                          : group.sum({written == "finished" ? 1.0 : 0.0, written == "failed" ? 1.0 : 0.0});
  out.status = agreed[0] > 0   ? ExperimentStatus::Finished
               : agreed[1] > 0 ? ExperimentStatus::Failed
                               : ExperimentStatus::Pending;
  return out;
}

}  // namespace dnas::sweep
