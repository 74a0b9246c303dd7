#pragma once
// The settings every run (search or retrain) has.
#include <cstdint>
#include <string>

namespace dnas::loop {

struct RunSettings {
  uint64_t seed = 0;               // search.seed / train.seed
  int64_t threads = 0;             // run.threads: intra-op threads (0 = all cores)
  std::string device = "cpu";      // run.device: cpu | cuda (GPU local_rank % count) | cuda:N
  std::string precision = "fp32";  // run.precision: fp32 | bf16 | fp16 (CUDA only), see ops/precision.h
  std::string out_dir;             // run.out_dir
  double log_period_s = 10.0;      // run.log_period_s: progress line period in batch logs
  bool progress = true;            // run.progress
  bool resume = false;             // --resume: continue from out_dir/checkpoint.h5
  bool overwrite = false;          // --overwrite: replace an earlier run's files in out_dir
  bool write_config_file = false;  // write config_text to out_dir/config.ini when the run starts
  int64_t stop_after_steps = 0;    // run.stop_after_steps: checkpoint and stop after this many steps (0 = never)
  std::string config_text;         // the resolved settings as INI (set by the cli), kept in results.h5
};

}  // namespace dnas::loop
