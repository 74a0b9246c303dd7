#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "dnas/bench/bench.h"
#include "dnas/bench/bench_data_parallel.h"
#include "dnas/bench/bench_loader.h"
#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"
#include "dnas/core/error.h"
#include "dnas/loop/threads.h"
#include "settings_parser.h"
#include "subcommands.h"

namespace po = boost::program_options;

namespace dnas::cli {
int bench_command(const std::vector<std::string>& args) {
  bench::BenchOptions o;
  std::string shapes = "small,paper", modes = "weight,darts_1st,darts_2nd";
  int64_t epoch_steps = 0;
  po::options_description d("dnas bench: search-step time and peak memory on synthetic data");
  d.add_options()("help,h", "this help")("shapes", po::value(&shapes)->default_value(shapes),
                                         "comma list of tiny, small, paper")(
      "modes", po::value(&modes)->default_value(modes),
      "comma list of weight (supernet w step), retrain (DARTS_V2 eval-network step, aux on) and search methods (one "
      "iteration); eoinas@K: an EoiNAS iteration after K op-pruning steps")(
      "steps", po::value(&o.steps)->default_value(o.steps), "timed steps per case (after 1 warm-up)")(
      "threads", po::value(&o.threads)->default_value(o.threads), "intra-op threads (0 = all cores)")(
      "op_set", po::value(&o.op_set)->default_value(o.op_set), "candidate op set")(
      "profile", po::value(&o.profile),
      "profile each case's timed steps: a chrome://tracing trace PREFIX.<shape>.<mode>.json and the ops by self time "
      "in PREFIX.<shape>.<mode>.txt (also printed)")("depthwise", po::value(&o.depthwise)->default_value(o.depthwise),
                                                     "depthwise-conv kernel: auto | direct | torch (for comparisons)")(
      "channels_last", po::value(&o.channels_last)->default_value(o.channels_last),
      "eval network and supernet in NHWC (false: NCHW, for comparisons)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "seed")(
      "device", po::value(&o.device)->default_value(o.device), "search modes: cpu | cuda | cuda:N")(
      "precision", po::value(&o.precision)->default_value(o.precision), "activations: fp32 | bf16 | fp16 (CUDA)")(
      "breakdown", po::value(&epoch_steps)->implicit_value(391),
      "also print NASP Table 6's columns per epoch of N iterations (391: CIFAR-10, 25k images, batch 64)")(
      "loader", po::value<std::string>(),
      "DIR: decode + augmentation throughput on DIR's class folders (with --threads, --steps x 100 images)")(
      "peak",
      "after the cases, measure this machine's peak GFLOP/s (2048^2 matrix product, fp32 and bf16) on the same "
      "threads and give each row's share of it")(
      "data_parallel",
      "under mpirun: weight steps with the batch split over all ranks, and the gradient all-reduce's share");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad bench option: ") + e.what(), "command line", "see `dnas bench --help`");
  }
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  o.shapes = split_list(shapes);
  o.modes = split_list(modes);
  if (o.steps < 1) fail("--steps must be >= 1", "bench --steps", "");
  const int threads = o.threads > 0 ? static_cast<int>(o.threads) : 0;
  if (vm.count("loader")) {
    std::cout << bench::run_loader_bench(vm["loader"].as<std::string>(), std::max(threads, 1), o.steps * 100);
    return 0;
  }
  if (vm.count("data_parallel")) {
    auto& world = comm::MpiWorld::get();
    auto group = comm::split_world(world.size());
    auto rows = bench::run_data_parallel_bench(o, *group);
    if (world.rank() == 0)
      std::cout << "dnas bench --data_parallel (" << world.size() << " ranks, backends " << comm::available_backends()
                << ")\n\n"
                << bench::format_data_parallel_table(rows);
    return 0;
  }
  std::cout << "dnas bench (" << (threads ? std::to_string(threads) : std::string("all")) << " threads, " << o.precision
            << ")\n";
  auto rows = bench::run_bench(o);
  double peak = 0;
  if (vm.count("peak")) {  // in this process after the cases: the cases fork from a process without thread pools
    loop::configure_threads(o.threads);
    const auto rates = bench::measure_peak_rates();
    std::cout << "\npeak (2048^2 matrix product): fp32 " << rates.fp32 << " GFLOP/s, bf16 " << rates.bf16
              << " GFLOP/s\n";
    peak = o.precision == "bf16" ? rates.bf16 : rates.fp32;
  }
  std::cout << "\n" << bench::format_bench_table(rows, threads, peak);
  if (epoch_steps > 0) std::cout << "\n" << bench::format_breakdown_table(rows, epoch_steps);
  return 0;
}

}  // namespace dnas::cli
