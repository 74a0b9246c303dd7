#pragma once
// What every run (search or retrain) does first.
#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "dnas/comm/process_group.h"
#include "dnas/core/run_dir.h"
#include "dnas/loop/run_settings.h"

namespace dnas::loop {

struct RunStart {
  std::unique_ptr<core::RunDirLock> dir_lock;  // held by the group's leader for the whole run
  std::chrono::steady_clock::time_point start;
  int threads = 1;
  torch::Device device = torch::kCPU;
};

// The start of a run of `command` ("search", "train"): checks that `batch_size` (the global
// batch) divides over the group; the leader locks run.out_dir and refuses to overwrite an
// earlier run there unless resuming or overwriting; then sets the thread count, selects the
// device and seeds torch's generator with run.seed.
RunStart start_run(const RunSettings& run, const std::string& command, int64_t batch_size, comm::ProcessGroup& group);

}  // namespace dnas::loop
