#pragma once
// Logging: spdlog with a "[r<rank>]" prefix.
#include <spdlog/spdlog.h>

namespace dnas::core {

// Sets the process-wide logger pattern and level for this rank. Ranks that log info (by default
// rank 0) show progress; the others only warnings and errors. verbose: debug instead of info.
void init_logging(int rank, bool verbose = false, bool logs_info = false);

}  // namespace dnas::core
