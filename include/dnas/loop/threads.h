#pragma once
// The intra-op thread count of a run.
#include <cstdint>

namespace dnas::loop {

// Cores this process may use: its CPU affinity set, capped by SLURM_CPUS_PER_TASK.
int available_cores();

// Sets the intra-op thread count (0 = the available cores) and returns the count in use; warns
// when more threads than cores are asked for.
int configure_threads(int64_t threads);

}  // namespace dnas::loop
