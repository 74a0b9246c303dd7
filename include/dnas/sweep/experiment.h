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
  std::string id;                              // e.g. "e002_search.method-gdas_search.seed-1"
  std::vector<std::pair<std::string, std::string>> grid;  // the grid values that define it
  std::optional<search::SearchConfig> search;  // empty: retrain a given genotype only
  train::TrainConfig train;                    // model.genotype is replaced by the searched cell
  std::vector<uint64_t> eval_seeds;            // one retrain per seed (empty: no retrain)
  bool eval_layers_from_search = false;        // model.layers = supernet.layers (Stretchable Cells)
};

enum class ExperimentStatus { Finished, Failed, Skipped };

// Runs (or resumes, from the checkpoints under <out_dir>/<id>/) one experiment and writes
// <out_dir>/<id>.h5 through a temporary file. An experiment whose file says "finished" is
// skipped. Errors are recorded in the file (status "failed") and returned, not thrown;
// core::Interrupted propagates after the running phase has checkpointed. Every rank of `group`
// calls this together; they run the experiment data-parallel and the leader writes the files.
// Search cost in GPU-days = search seconds * group size / 86400.
ExperimentStatus run_experiment(const Experiment& experiment, const std::string& out_dir,
                                std::shared_ptr<comm::ProcessGroup> group = comm::solo_group());

// The file an experiment writes.
std::string experiment_file(const std::string& out_dir, const std::string& id);

}  // namespace dnas::sweep
