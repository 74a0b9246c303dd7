#pragma once
// `dnas bench --data_parallel` under mpirun: the cost of gradient all-reduce in a data-parallel
// group. Runs in-process on every rank (no fork: MPI is initialised).
#include <string>
#include <vector>

#include "dnas/bench/bench.h"
#include "dnas/comm/process_group.h"

namespace dnas::bench {

struct DataParallelRow {
  std::string shape;
  int ranks = 1;
  double step_s = 0;       // one weight step on the rank's shard, all-reduce included (mean)
  double allreduce_s = 0;  // averaging the supernet's gradients alone (mean)
  int64_t buckets = 0;     // collectives per all-reduce
  double gradient_mb = 0;  // gradient bytes all-reduced per step
};

// Times weight steps of the supernet at each shape with the global batch split over `group`.
std::vector<DataParallelRow> run_data_parallel_bench(const BenchOptions& options, comm::ProcessGroup& group);

std::string format_data_parallel_table(const std::vector<DataParallelRow>& rows);

}  // namespace dnas::bench
