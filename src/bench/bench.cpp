#include "dnas/bench/bench.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>

#include "dnas/bench/case_profile.h"
#include "dnas/comm/device.h"
#include "dnas/core/error.h"
#include "dnas/eval/eval_network.h"
#include "dnas/genotype/published.h"
#include "dnas/loop/threads.h"
#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/op_names.h"
#include "dnas/optim/sgd_step.h"
#include "dnas/search/eoinas.h"
#include "dnas/search/search_loop.h"
#include "dnas/search/strategy_factory.h"
#include "step_flops.h"

namespace dnas::bench {

using namespace search;  // the methods and the weight trainer being timed

namespace {

TensorBatch random_batch(const BenchShape& s) {
  return {torch::randn({s.batch, s.in_channels, s.image, s.image}),  // [B, C, H, W]
          torch::randint(0, 10, {s.batch}, torch::kLong)};           // [B]
}

// Times one retrain step of the DARTS_V2 evaluation network (aux head, drop-path 0.1, loss
// CE + 0.4 CE_aux, clip 5), as the reference train.py does it.
std::vector<double> time_retrain(const BenchShape& s, const BenchOptions& o, const std::function<void()>& timed_start) {
  torch::manual_seed(o.seed);
  eval::EvalNetworkConfig cfg;
  cfg.in_channels = s.in_channels;
  cfg.channels = s.channels;
  cfg.layers = s.layers;
  cfg.channels_last = o.channels_last;
  cfg.precision = ops::parse_precision(o.precision, "bench --precision");
  eval::EvalNetwork net(genotype::published_genotype("DARTS_V2"), cfg);
  net->set_drop_path_prob(0.1);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.025).momentum(0.9).weight_decay(3e-4));
  auto batch = random_batch(s);
  std::vector<double> times;
  for (int64_t i = 0; i <= o.steps; ++i) {
    if (i == 1) timed_start();  // step 0 is the warm-up
    const auto t0 = std::chrono::steady_clock::now();
    auto out = net->forward(batch.x);
    auto loss =
        torch::cross_entropy_loss(out.logits, batch.y) + 0.4 * torch::cross_entropy_loss(out.aux_logits, batch.y);
    sgd.zero_grad();
    loss.backward();
    optim::clip_and_step(sgd, /*max_norm=*/5.0);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) times.push_back(dt);
  }
  return times;
}

struct CaseTimes {
  std::vector<double> steps;         // seconds per timed step
  double forward = 0, backward = 0;  // mean seconds per step of the weight step's parts
};

// Times `steps` steps of one case in this process; `timed_start` runs after the warm-up step.
CaseTimes time_case(const BenchShape& s, const std::string& mode, const BenchOptions& o,
                    const std::function<void()>& timed_start) {
  if (mode == "retrain") return {time_retrain(retrain_shape(s.name), o, timed_start)};
  torch::manual_seed(o.seed);
  auto cfg = bench_supernet_config(s, o.op_set, o.channels_last);
  cfg.device = comm::select_device(o.device, "bench --device");
  cfg.precision = ops::parse_precision(o.precision, "bench --precision");
  supernet::Supernet net(cfg);
  WeightTrainer weights(net, WeightOptions{});
  SearchConfig config;
  // "eoinas@K": an EoiNAS step after K pruning steps (after the warm-up, so alpha steps run).
  const auto at = mode.find('@');
  const int64_t prunes = at == std::string::npos ? 0 : std::stoll(mode.substr(at + 1));
  config.run.method = mode == "weight" ? "darts_1st" : mode.substr(0, at);
  if (!is_known_method(config.run.method))
    fail("unknown bench mode '" + mode + "'", "bench --modes",
         "use weight or a search method: " + known_methods_text());
  auto strategy = make_strategy(config, cfg);
  const EpochInfo info{parse_method(config.run.method) == Method::Eoinas ? config.eoinas.warmup_epochs : 0, 50, 0.025};
  strategy->begin_epoch(info);
  if (auto* eoinas = dynamic_cast<EoinasStrategy*>(strategy.get()))
    for (int64_t k = 0; k < prunes; ++k) eoinas->prune();
  auto on_device = [&](TensorBatch b) { return TensorBatch{b.x.to(cfg.device), b.y.to(cfg.device)}; };
  auto train = on_device(random_batch(s)), val = on_device(random_batch(s));
  auto sync = [&] {
    if (cfg.device.is_cuda()) torch::cuda::synchronize();
  };
  CaseTimes times;
  for (int64_t i = 0; i <= o.steps; ++i) {
    if (i == 1) {  // step 0 is the warm-up
      weights.time_steps(true);
      timed_start();
    }
    sync();
    const auto t0 = std::chrono::steady_clock::now();
    if (mode == "weight")
      weights.step(train, strategy->inference_mix());
    else
      strategy->step(weights, {train, val, val}, info);
    sync();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) times.steps.push_back(dt);
  }
  const auto& w = weights.step_times();
  times.forward = w.forward / static_cast<double>(o.steps);
  times.backward = w.backward / static_cast<double>(o.steps);
  return times;
}

}  // namespace

supernet::SupernetConfig bench_supernet_config(const BenchShape& s, const std::string& op_set, bool channels_last) {
  supernet::SupernetConfig cfg;
  cfg.channels_last = channels_last;
  cfg.in_channels = s.in_channels;
  cfg.channels = s.channels;
  cfg.layers = s.layers;
  cfg.steps = s.steps;
  cfg.normal_ops = ops::op_set(op_set, ops::CellType::Normal);
  cfg.reduce_ops = ops::op_set(op_set, ops::CellType::Reduce);
  return cfg;
}

BenchShape retrain_shape(const std::string& name) {
  if (name == "paper") return {"paper", 20, 36, 96, 32, 3, 4};
  if (name == "small") return {"small", 8, 16, 32, 32, 3, 4};
  if (name == "tiny") return {"tiny", 5, 8, 8, 32, 3, 4};
  fail("unknown bench shape '" + name + "'", "bench --shapes", "use paper, small or tiny");
}

BenchShape bench_shape(const std::string& name) {
  if (name == "paper") return {"paper", 8, 16, 64, 32, 3, 4};
  if (name == "small") return {"small", 5, 8, 32, 32, 3, 4};
  if (name == "tiny") return {"tiny", 5, 4, 8, 32, 3, 4};
  fail("unknown bench shape '" + name + "'", "bench --shapes", "use paper, small or tiny");
}

std::vector<BenchRow> run_bench(const BenchOptions& o) {
  std::vector<BenchRow> rows;
  for (const auto& shape_name : o.shapes) {
    const auto shape = bench_shape(shape_name);
    for (const auto& mode : o.modes) {
      int fds[2];
      if (o.depthwise != "auto" && o.depthwise != "direct" && o.depthwise != "torch")
        fail("unknown depthwise kernel '" + o.depthwise + "'", "bench --depthwise", "auto | direct | torch");
      if (mode != "weight" && mode != "retrain" && !is_known_method(mode.substr(0, mode.find('@'))))
        fail("unknown bench mode '" + mode + "'", "bench --modes",
             "use weight, retrain or a search method: " + known_methods_text());
      if (pipe(fds) != 0) fail("cannot create a pipe", "bench", "");
      std::fflush(stdout);
      const pid_t pid = fork();
      if (pid == 0) {  // child: run the case, write "mean min" to the pipe
        close(fds[0]);
        int code = 0;
        try {
          loop::configure_threads(o.threads);
          ops::set_depthwise_mode(o.depthwise == "direct"  ? ops::DepthwiseMode::Direct
                                  : o.depthwise == "torch" ? ops::DepthwiseMode::Torch
                                                           : ops::DepthwiseMode::Auto);
          const auto c = time_case(shape, mode, o, [&] {
            if (!o.profile.empty()) start_profile();
          });
          if (!o.profile.empty()) {
            const auto prefix = o.profile + "." + shape_name + "." + mode;
            std::printf("  profile of %s/%s (%s.json, %s.txt), %lld timed steps:\n%s", shape_name.c_str(), mode.c_str(),
                        prefix.c_str(), prefix.c_str(), static_cast<long long>(o.steps),
                        finish_profile(prefix).c_str());
            std::fflush(stdout);
          }
          const auto& t = c.steps;
          double sum = 0;
          for (double x : t) sum += x;
          const std::string msg = std::to_string(sum / t.size()) + " " +
                                  std::to_string(*std::min_element(t.begin(), t.end())) + " " +
                                  std::to_string(c.forward) + " " + std::to_string(c.backward);
          if (write(fds[1], msg.data(), msg.size()) < 0) code = 3;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "bench case %s/%s failed: %s\n", shape_name.c_str(), mode.c_str(), e.what());
          code = 2;
        }
        close(fds[1]);
        _exit(code);
      }
      close(fds[1]);
      std::string text;
      char buf[256];
      for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
      close(fds[0]);
      int status = 0;
      struct rusage usage {};
      wait4(pid, &status, 0, &usage);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("bench case " + shape_name + "/" + mode + " failed", "bench", "see the message above");
      BenchRow row{shape_name, mode};
      std::istringstream(text) >> row.mean_s >> row.min_s >> row.forward_s >> row.backward_s;
      row.peak_rss_mb = usage.ru_maxrss / 1024.0;
      row.gflops = step_flops(shape, mode, o.op_set) / row.mean_s * 1e-9;
      rows.push_back(row);
      std::printf("  %-6s %-10s %8.3f s/step (min %.3f)  peak RSS %8.0f MB\n", shape_name.c_str(), mode.c_str(),
                  row.mean_s, row.min_s, row.peak_rss_mb);
      std::fflush(stdout);
    }
  }
  return rows;
}

std::string format_breakdown_table(const std::vector<BenchRow>& rows, int64_t epoch_steps) {
  std::ostringstream out;
  out << "Per epoch of " << epoch_steps << " iterations, seconds (NASP Table 6 columns; the weight step's\n"
      << "forward and backward, and the architecture update = iteration - weight step):\n\n"
      << "| shape | method | alpha update | w forward | w backward | total | total s/iteration |\n"
      << "|---|---|---|---|---|---|---|\n";
  char line[200];
  const auto n = static_cast<double>(epoch_steps);
  for (const auto& r : rows) {
    if (r.mode == "retrain") continue;
    const double alpha = std::max(0.0, r.mean_s - r.forward_s - r.backward_s);
    std::snprintf(line, sizeof line, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.3f |\n", r.shape.c_str(),
                  r.mode.c_str(), alpha * n, r.forward_s * n, r.backward_s * n, r.mean_s * n, r.mean_s);
    out << line;
  }
  return out.str();
}

PeakRates measure_peak_rates() { return {matmul_peak_gflops("fp32"), matmul_peak_gflops("bf16")}; }

std::string format_bench_table(const std::vector<BenchRow>& rows, int threads, double peak_gflops) {
  std::ostringstream out;
  out << "| shape | step | s/step (mean) | s/step (min) | peak RSS MB | GFLOP/s | of peak |  threads " << threads
      << "\n"
      << "|---|---|---|---|---|---|---|\n";
  char line[200], rate[32], share[32];
  for (const auto& r : rows) {
    std::snprintf(rate, sizeof rate, r.gflops > 0 ? "%.1f" : "-", r.gflops);
    std::snprintf(share, sizeof share, r.gflops > 0 && peak_gflops > 0 ? "%.0f %%" : "-",
                  100.0 * r.gflops / peak_gflops);
    std::snprintf(line, sizeof line, "| %s | %s | %.3f | %.3f | %.0f | %s | %s |\n", r.shape.c_str(), r.mode.c_str(),
                  r.mean_s, r.min_s, r.peak_rss_mb, rate, share);
    out << line;
  }
  return out.str();
}

}  // namespace dnas::bench
