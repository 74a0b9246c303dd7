#include "step_flops.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "dnas/eval/network_cost.h"
#include "dnas/genotype/published.h"

namespace dnas::bench {
namespace {

constexpr double kFlopsPerMultiplyAdd = 2;
constexpr double kWeightPass = 3;  // forward + input gradients + weight gradients
constexpr double kArchPass = 2;    // forward + input gradients

double forward_passes(const std::string& mode) {
  if (mode == "weight" || mode == "retrain") return kWeightPass;
  if (mode == "darts_1st") return kArchPass + kWeightPass;
  if (mode == "darts_2nd") return 3 * kWeightPass + 2 * kArchPass;
  return 0;
}

}  // namespace

double step_flops(const BenchShape& shape, const std::string& mode, const std::string& op_set) {
  const double passes = forward_passes(mode);
  if (passes == 0) return 0;
  int64_t macs = 0;
  if (mode == "retrain") {
    const auto s = retrain_shape(shape.name);
    eval::EvalNetworkConfig cfg;
    cfg.in_channels = s.in_channels;
    cfg.channels = s.channels;
    cfg.layers = s.layers;
    macs = eval::network_cost(genotype::published_genotype("DARTS_V2"), cfg, s.image, s.image).multiply_adds * s.batch;
  } else {
    macs = eval::supernet_cost(bench_supernet_config(shape, op_set, /*channels_last=*/true), shape.image, shape.image)
               .multiply_adds *
           shape.batch;
  }
  return passes * kFlopsPerMultiplyAdd * static_cast<double>(macs);
}

double matmul_peak_gflops(const std::string& dtype_name, int64_t n, int repeats) {
  const auto dtype = dtype_name == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  torch::NoGradGuard no_grad;
  const auto a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype);  // [n, n] each
  // The same n^3 multiply-adds as a 1x1 convolution, which goes to oneDNN rather than the BLAS:
  // x [1, n, n, 1] channels-last is n pixels of n channels, w [n, n, 1, 1].
  const auto x = a.t().reshape({1, n, n, 1}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto w = b.t().reshape({n, n, 1, 1}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto time_best = [&](auto&& run) {
    run();  // warm-up
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      run();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  auto c = torch::mm(a, b);
  const double mm_s = time_best([&] { torch::mm_out(c, a, b); });
  const double conv_s = time_best([&] { torch::conv2d(x, w); });
  const double flops = kFlopsPerMultiplyAdd * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  return flops / std::min(mm_s, conv_s) * 1e-9;
}

}  // namespace dnas::bench
