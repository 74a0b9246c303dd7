#include "dnas/loop/run_start.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "dnas/comm/device.h"
#include "dnas/core/error.h"
#include "dnas/core/run_start.h"
#include "dnas/loop/threads.h"

namespace dnas::loop {

RunStart start_run(const RunSettings& run, const std::string& command, int64_t batch_size, comm::ProcessGroup& group) {
  if (batch_size % group.size() != 0)
    fail(fmt::format("data.batch_size {} is not divisible by the {} ranks of the data-parallel group", batch_size,
                     group.size()),
         "data.batch_size", "use a multiple of study.ranks_per_experiment (the batch is the global one)");
  RunStart s;
  if (group.leader())
    s.dir_lock = core::start_run_in(run.out_dir, command, run.resume, run.overwrite,
                                    run.write_config_file ? run.config_text : "");
  s.start = std::chrono::steady_clock::now();
  s.threads = configure_threads(run.threads);
  s.device = comm::select_device(run.device, "run.device");
  torch::manual_seed(run.seed);
  return s;
}

}  // namespace dnas::loop
