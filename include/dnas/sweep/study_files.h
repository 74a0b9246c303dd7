#pragma once
// The files of a study's out_dir as a whole: the list of the current grid's experiments (what
// `dnas report` counts), the lock that keeps a second sweep out, records of finished
// experiments checked against the current settings, and files named by earlier versions.
#include <string>
#include <vector>

#include "dnas/sweep/experiment.h"

namespace dnas::sweep {

// <out_dir>/experiments.txt: one id per line, the experiments of the study as last planned,
// after a line "# baseline: <row>" when the study names its baseline row.
std::string manifest_file(const std::string& out_dir);
void write_manifest(const std::string& out_dir, const std::vector<Experiment>& experiments,
                    const std::string& baseline = "");
struct Manifest {
  std::vector<std::string> ids;  // in grid order; empty without a manifest (every experiment file counts)
  std::string baseline;
};
Manifest read_manifest(const std::string& out_dir);

// The settings of a finished experiment's record against the experiment's current ones: a
// record whose result-changing settings differ (any key outside [run], and run.device) is an
// error naming the file and the first differing key with both values.
void check_finished_records(const std::string& out_dir, const std::vector<Experiment>& experiments);

// Renames files of earlier versions, whose ids began with the experiment's index
// ("e003_<id>.h5", "e003_<id>/"), to the current names when those are free.
void adopt_indexed_names(const std::string& out_dir, const std::vector<Experiment>& experiments);

}  // namespace dnas::sweep
