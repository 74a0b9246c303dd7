#pragma once
// Logging: spdlog with a "[r<rank>]" prefix. Rank 0 logs info; other ranks warnings and errors.
#include <spdlog/spdlog.h>

namespace dnas::core {

// Sets the process-wide logger pattern and level for this rank. verbose: debug on rank 0.
void init_logging(int rank, bool verbose = false);

}  // namespace dnas::core
