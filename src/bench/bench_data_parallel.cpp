#include "dnas/bench/bench_data_parallel.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "dnas/genotype/cell_topology.h"
#include "dnas/loop/threads.h"
#include "dnas/search/search_loop.h"
#include "dnas/search/weight_trainer.h"

namespace dnas::bench {

using namespace search;  // the methods and the weight trainer being timed

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

std::vector<DataParallelRow> run_data_parallel_bench(const BenchOptions& o, comm::ProcessGroup& group) {
  loop::configure_threads(o.threads);
  std::vector<DataParallelRow> rows;
  for (const auto& name : o.shapes) {
    const auto s = bench_shape(name);
    torch::manual_seed(o.seed);
    const auto cfg = bench_supernet_config(s, o.op_set, o.channels_last);
    supernet::Supernet net(cfg);
    std::shared_ptr<comm::ProcessGroup> borrowed(&group, [](comm::ProcessGroup*) {});
    WeightTrainer weights(net, WeightOptions{}, borrowed);
    const int64_t shard = s.batch / group.size();
    TensorBatch batch{torch::randn({shard, s.in_channels, s.image, s.image}),
                      torch::randint(0, 10, {shard}, torch::kLong)};
    const auto edges = torch::full({genotype::num_edges(s.steps), static_cast<int64_t>(cfg.normal_ops.size())},
                                   1.0 / cfg.normal_ops.size());
    const supernet::ArchMix mix{supernet::soft_mix(edges), supernet::soft_mix(edges.clone())};

    DataParallelRow row{name, group.size()};
    for (int64_t i = 0; i <= o.steps; ++i) {
      group.barrier();
      const auto t0 = Clock::now();
      weights.step(batch, mix);
      if (i > 0) row.step_s += seconds_since(t0) / o.steps;  // step 0 is the warm-up
    }
    std::vector<torch::Tensor> grads;
    for (const auto& p : net->parameters())
      if (p.grad().defined()) {
        grads.push_back(p.grad());
        row.gradient_mb += p.grad().numel() * 4 / 1e6;
      }
    const int64_t before = group.collectives();
    for (int64_t i = 0; i < o.steps; ++i) {
      group.barrier();
      const auto t0 = Clock::now();
      group.average(grads);
      row.allreduce_s += seconds_since(t0) / o.steps;
    }
    row.buckets = (group.collectives() - before) / o.steps;
    auto total = group.sum({row.step_s, row.allreduce_s});  // means over the ranks
    row.step_s = total[0] / group.size();
    row.allreduce_s = total[1] / group.size();
    rows.push_back(row);
  }
  return rows;
}

std::string format_data_parallel_table(const std::vector<DataParallelRow>& rows) {
  std::ostringstream out;
  out << "| shape | ranks | shard batch | s/step | all-reduce s | all-reduce % | buckets | gradient MB |\n"
      << "|---|---|---|---|---|---|---|---|\n";
  char line[200];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "| %s | %d | %lld | %.3f | %.4f | %.1f | %lld | %.1f |\n", r.shape.c_str(),
                  r.ranks, static_cast<long long>(bench_shape(r.shape).batch / r.ranks), r.step_s, r.allreduce_s,
                  r.step_s > 0 ? 100 * r.allreduce_s / r.step_s : 0.0, static_cast<long long>(r.buckets),
                  r.gradient_mb);
    out << line;
  }
  return out.str();
}

}  // namespace dnas::bench
