#pragma once
// `dnas bench`: time search steps at fixed shapes on synthetic data, each case in its own
// child process so its peak RSS is its own.
#include <string>
#include <vector>

#include "dnas/supernet/supernet.h"

namespace dnas::bench {

struct BenchShape {
  std::string name;
  int64_t layers, channels, batch, image, in_channels, steps;
};

// "paper" = 8 cells, C=16, batch 64, 3x32x32; "small" = 5 cells, C=8, batch 32, 3x32x32;
// "tiny" = 5 cells, C=4, batch 8.
BenchShape bench_shape(const std::string& name);
// Shapes of the `retrain` mode (DARTS_V2 eval network, aux head): "paper" = 20 cells, C=36,
// batch 96; "small" = 8 cells, C=16, batch 32; "tiny" = 5 cells, C=8, batch 8 (3x32x32).
BenchShape retrain_shape(const std::string& name);

// The supernet of a bench shape with the op set's normal/reduce lists.
supernet::SupernetConfig bench_supernet_config(const BenchShape& shape, const std::string& op_set, bool channels_last);

struct BenchOptions {
  std::vector<std::string> shapes = {"small", "paper"};
  std::vector<std::string> modes = {"weight", "darts_1st", "darts_2nd"};  // weight, retrain or a method
  int64_t steps = 3;    // timed steps per case (after one warm-up step)
  int64_t threads = 0;  // 0 = all cores
  std::string op_set = "darts8";
  std::string depthwise = "auto";  // depthwise-conv kernel: auto | direct | torch
  std::string profile;         // PREFIX: per case, a chrome://tracing trace and the ops by self time of its timed steps
  bool channels_last = true;   // the eval network and the supernet in NHWC (false: NCHW, for comparisons)
  std::string device = "cpu";  // search modes: cpu | cuda | cuda:N (as run.device)
  std::string precision = "fp32";  // activations: fp32 | bf16 | fp16 (as run.precision)
  uint64_t seed = 0;
};

struct BenchRow {
  std::string shape, mode;
  double mean_s = 0, min_s = 0;          // seconds per step
  double peak_rss_mb = 0;                // peak resident memory of the case's process
  double forward_s = 0, backward_s = 0;  // of the weight step, mean per iteration (search modes)
  double gflops = 0;                     // counted convolution/linear FLOPs per second (0: mode not counted)
};

// The machine's arithmetic peak on the current intra-op threads, GFLOP/s: the best rate of a
// 2048 x 2048 matrix product in each precision (BLAS or oneDNN, whichever is faster).
struct PeakRates {
  double fp32 = 0, bf16 = 0;
};
PeakRates measure_peak_rates();

// Runs every shape x mode case; returns the rows (also printed as a table on stdout).
std::vector<BenchRow> run_bench(const BenchOptions& options);

// peak_gflops: the peak of the rows' precision, for the "of peak" column (0: left out).
std::string format_bench_table(const std::vector<BenchRow>& rows, int threads, double peak_gflops = 0);

// NASP Table 6's columns per epoch of `epoch_steps` iterations: architecture update, weight
// forward, weight backward, total.
std::string format_breakdown_table(const std::vector<BenchRow>& rows, int64_t epoch_steps);

}  // namespace dnas::bench
