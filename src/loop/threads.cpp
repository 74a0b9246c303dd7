#include "dnas/loop/threads.h"

#include <ATen/Parallel.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace dnas::loop {

int available_cores() {
  int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = std::max(1, CPU_COUNT(&set));  // the task's cpuset
  if (const char* slurm = std::getenv("SLURM_CPUS_PER_TASK"); slurm != nullptr && std::atoi(slurm) > 0)
    n = std::min(n, std::atoi(slurm));
  return n;
}

int configure_threads(int64_t threads) {
  const int cores = available_cores();
  if (threads > cores)
    spdlog::warn(
        "run.threads = {} but this process may use {} core(s): the threads will compete for them and run "
        "much slower (0 uses the available cores)",
        threads, cores);
  const int n = threads > 0 ? static_cast<int>(threads) : cores;
  at::set_num_threads(n);
  return n;
}

}  // namespace dnas::loop
