#pragma once
// The start of a run in its output directory, by the one process that writes the run's files.
#include <memory>
#include <string>

#include "dnas/core/run_dir.h"

namespace dnas::core {

// Holds `dir` for the run (the returned lock), refuses to overwrite an earlier run's
// checkpoint.h5 / results.h5 unless `resume` or `overwrite`, and writes `config_ini` (when not
// empty) to dir/config.ini, so `--config DIR/config.ini --resume` works from the start.
std::unique_ptr<RunDirLock> start_run_in(const std::string& dir, const std::string& command, bool resume,
                                         bool overwrite, const std::string& config_ini);

}  // namespace dnas::core
