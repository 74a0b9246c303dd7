#pragma once
// One grid point of a study: search -> derive -> retrain per eval seed -> test (or retrain only,
// for a published genotype), written as one HDF5 file `<study out_dir>/<id>.h5`.
#include <optional>
#include <string>
#include <vector>

#include "dnas/comm/process_group.h"
#include "dnas/search/search_config.h"
#include "dnas/train/train_config.h"

namespace dnas::sweep {

struct Experiment {
  std::string id;                                         // e.g. "e002_search.method-gdas_search.seed-1"
  std::vector<std::pair<std::string, std::string>> grid;  // the grid values that define it
  std::optional<search::SearchConfig> search;             // empty: retrain a given genotype only
  train::TrainConfig train;                               // model.genotype is replaced by the searched cell
  std::vector<uint64_t> eval_seeds;                       // one retrain per seed (empty: no retrain)
  bool eval_layers_from_search = false;                   // model.layers = supernet.layers (Stretchable Cells)
};

// One unit of a study's schedule: an experiment's retrain with one of its eval seeds, preceded
// by the experiment's search when no other item has run it yet (an experiment without retrains
// is one item). Each eval seed's retrain depends only on the finished search, so the items of
// one experiment run on different groups at once.
struct WorkItem {
  int experiment = 0;  // index into the study's experiments
  int seed_slot = 0;   // index into its eval_seeds
};

// A study's work items, one seed slot after the other: every experiment's first item (the one
// that usually runs its search) is handed out before any second item, so that the later items
// mostly find their search finished.
std::vector<WorkItem> plan_work_items(const std::vector<Experiment>& experiments);

// Finished / Failed: the item settled its experiment and wrote its record; Pending: the item's
// part is done and another item of the experiment is still to run; Skipped: the experiment had
// finished before.
enum class ExperimentStatus { Finished, Failed, Pending, Skipped };

struct ItemOutcome {
  ExperimentStatus status = ExperimentStatus::Pending;
  double waited_seconds = 0.0;  // waiting for another group's run of the same search
};

// Runs (or resumes, from the checkpoints under <out_dir>/<id>/ and out_dir/searches/) one work
// item: the experiment's search, or the finished record of it, then the retrain of the seed
// slot; then writes <out_dir>/<id>.h5 through a temporary file once every phase of the
// experiment has settled. Errors are recorded in the phase's results.h5 and the experiment's
// record (status "failed") and returned, not thrown; core::Interrupted propagates after the
// running phase has checkpointed. Every rank of `group` calls this together; they run the item
// data-parallel and the leader writes the files. An experiment whose record says "finished" is
// skipped. Search cost in GPU-days = search seconds * group size / 86400.
ItemOutcome run_work_item(const Experiment& experiment, int seed_slot, const std::string& out_dir,
                          std::shared_ptr<comm::ProcessGroup> group = comm::solo_group());

// The file an experiment writes.
std::string experiment_file(const std::string& out_dir, const std::string& id);

}  // namespace dnas::sweep
