#include "dnas/loop/run_keys.h"

namespace dnas::loop {

void add_run_keys(core::KeyTable& t, RunSettings& r) {
  t.add("run.threads", &r.threads, "intra-op threads (0 = all cores)").at_least(0).run_only();
  t.add("run.device", &r.device, "cpu | cuda (the GPU of this rank: local rank % GPUs) | cuda:N");
  t.add("run.precision", &r.precision,
        "activation precision: fp32 | bf16 (CPU with AVX-512 BF16 or AMX, CUDA) | fp16 (CUDA, loss scaling); "
        "weights, optimizer state, losses and batch-norm statistics stay fp32");
  t.add("run.out_dir", &r.out_dir, "output directory").run_only();
  t.add("run.log_period_s", &r.log_period_s, "seconds between progress lines when stderr is not a terminal").run_only();
  t.add("run.progress", &r.progress, "show progress").run_only();
  t.add("run.stop_after_steps", &r.stop_after_steps,
        "checkpoint and stop after this many steps (0 = never); continue with --resume")
      .at_least(0)
      .run_only();
}

}  // namespace dnas::loop
