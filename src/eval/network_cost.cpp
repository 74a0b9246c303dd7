#include "dnas/eval/network_cost.h"

#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>

#include "dnas/core/error.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/ops/op_factory.h"

namespace dnas::eval {
namespace {

int64_t half(int64_t x) { return (x + 1) / 2; }

struct Plane {
  int64_t h, w;
};

// Stem, cells and classifier of an L-cell network; `cell_ops` adds the multiply-adds of one
// cell's ops given (cell index, reduction, C, input plane).
int64_t walk_network(int64_t in_channels, int64_t classes, int64_t channels, int64_t layers, bool imagenet,
                     int64_t stem_multiplier, Plane plane,
                     const std::function<int64_t(int64_t, bool, int64_t, Plane)>& cell_ops,
                     const std::function<int64_t(int64_t, bool)>& multiplier) {
  int64_t macs = 0, c_pp, c_p, c = channels;
  Plane p0, p1;
  bool reduction_prev;
  if (!imagenet) {
    const int64_t c_stem = stem_multiplier * channels;
    macs += 9 * in_channels * c_stem * plane.h * plane.w;
    c_pp = c_p = c_stem;
    p0 = p1 = plane;
    reduction_prev = false;
  } else {
    Plane a{half(plane.h), half(plane.w)}, b{half(a.h), half(a.w)}, d{half(b.h), half(b.w)};
    macs += 9 * in_channels * (channels / 2) * a.h * a.w + 9 * (channels / 2) * channels * b.h * b.w +
            9 * channels * channels * d.h * d.w;
    c_pp = c_p = channels;
    p0 = b;
    p1 = d;
    reduction_prev = true;
  }
  for (int64_t i = 0; i < layers; ++i) {
    const bool reduction = supernet::is_reduction_cell(i, layers);
    if (reduction) c *= 2;
    macs += reduction_prev ? c_pp * c * half(p0.h) * half(p0.w) : c_pp * c * p0.h * p0.w;
    macs += c_p * c * p1.h * p1.w;
    macs += cell_ops(i, reduction, c, p1);
    const Plane out = reduction ? Plane{half(p1.h), half(p1.w)} : p1;
    reduction_prev = reduction;
    c_pp = c_p;
    c_p = multiplier(i, reduction) * c;
    p0 = p1;
    p1 = out;
  }
  return macs + c_p * classes;
}

}  // namespace

int64_t channels_for_parameters(const genotype::Genotype& genotype, EvalNetworkConfig config, int64_t target) {
  config.auxiliary = false;
  config.channels_last = false;
  const int64_t step = config.stem == "imagenet" ? 4 : 2, max_units = 512 / step;
  std::map<int64_t, int64_t> counted;
  auto params = [&](int64_t units) {
    auto [it, fresh] = counted.try_emplace(units, 0);
    if (fresh) {
      config.channels = units * step;
      it->second = EvalNetwork(genotype, config)->parameter_count(false);
    }
    return it->second;
  };
  // Parameters grow with C, a little slower than C^2: find the smallest C reaching the target,
  // then compare with one step less. params(u) * (max/u)^2 bounds params(max) from above, so an
  // unreachable target is refused before a huge network is built.
  int64_t lo = 1, hi = 1;
  while (hi < max_units && params(hi) < target) {
    const double bound = static_cast<double>(params(hi)) * std::pow(static_cast<double>(max_units) / hi, 2);
    if (bound < static_cast<double>(target))
      fail("a parameter target of " + std::to_string(target) +
               " needs more than C = " + std::to_string(max_units * step) + " channels (" + std::to_string(params(hi)) +
               " parameters at C = " + std::to_string(hi * step) + ")",
           "model.target_params", "the target is in millions of parameters, e.g. 3.5");
    lo = hi, hi *= 2;
  }
  hi = std::min(hi, max_units);
  if (params(hi) < target)
    fail("a parameter target of " + std::to_string(target) + " needs more than C = " + std::to_string(hi * step) +
             " channels",
         "model.target_params", "the target is in millions of parameters, e.g. 3.5");
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (params(mid) < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (hi > 1 && target - params(hi - 1) <= params(hi) - target) --hi;
  return hi * step;
}

NetworkCost network_cost(const genotype::Genotype& genotype, const EvalNetworkConfig& config, int64_t height,
                         int64_t width) {
  NetworkCost cost;
  EvalNetwork net(genotype, config);
  cost.parameters = net->parameter_count(/*with_aux=*/false);
  cost.parameters_with_aux = net->parameter_count(/*with_aux=*/true);
  auto cell_ops = [&](int64_t, bool reduction, int64_t c, Plane p) {
    int64_t macs = 0;
    for (const auto& node : (reduction ? genotype.reduce : genotype.normal).nodes)
      for (const auto& gene : node)
        macs += ops::op_multiply_adds(gene.op, c, reduction && gene.src < 2 ? 2 : 1, p.h, p.w);
    return macs;
  };
  auto multiplier = [&](int64_t, bool reduction) {
    return static_cast<int64_t>((reduction ? genotype.reduce : genotype.normal).concat.size());
  };
  cost.multiply_adds =
      walk_network(config.in_channels, config.classes, config.channels, config.layers, config.stem == "imagenet",
                   config.stem_multiplier, {height, width}, cell_ops, multiplier);
  return cost;
}

NetworkCost supernet_cost(const supernet::SupernetConfig& config, int64_t height, int64_t width) {
  NetworkCost cost;
  supernet::Supernet net(config);
  cost.parameters = cost.parameters_with_aux = supernet::count_parameters(*net);
  auto cell_ops = [&](int64_t, bool reduction, int64_t c, Plane p) {
    int64_t macs = 0;
    for (int64_t node = 2; node < config.steps + 2; ++node)
      for (int64_t src = 0; src < node; ++src)
        for (const auto& op : reduction ? config.reduce_ops : config.normal_ops)
          macs += ops::op_multiply_adds(op, c, reduction && src < 2 ? 2 : 1, p.h, p.w);
    return macs;
  };
  auto multiplier = [&](int64_t, bool) { return config.steps; };
  cost.multiply_adds = walk_network(config.in_channels, config.classes, config.channels, config.layers,
                                    /*imagenet=*/false, config.stem_multiplier, {height, width}, cell_ops, multiplier);
  return cost;
}

}  // namespace dnas::eval
