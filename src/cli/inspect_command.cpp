#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include <iostream>

#include "dnas/cli/options.h"
#include "dnas/core/error.h"
#include "dnas/data/dataset.h"
#include "dnas/eval/network_cost.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/search/search_config.h"
#include "dnas/search/strategy_factory.h"
#include "dnas/train/genotype_source.h"
#include "subcommands.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

struct InspectOptions {
  std::string genotype, config, dataset = "cifar10", stem;
  int64_t channels = 0, layers = 0, classes = 0, in_channels = 0, height = 0, width = 0;
  bool auxiliary = true;
};

// Input shape and class count of `dataset` ("imagenet" = 3x224x224, 1000 classes).
void fill_from_dataset(InspectOptions& o) {
  int64_t ch = 3, h = 224, w = 224, k = 1000;
  if (o.dataset != "imagenet") {
    auto info = data::dataset_info(o.dataset);
    ch = info.channels, h = info.height, w = info.width, k = info.classes;
  }
  const bool imagenet = o.dataset == "imagenet";
  if (!o.in_channels) o.in_channels = ch;
  if (!o.height) o.height = h;
  if (!o.width) o.width = w;
  if (!o.classes) o.classes = k;
  if (o.stem.empty()) o.stem = imagenet ? "imagenet" : "cifar";
  if (!o.channels) o.channels = imagenet ? 48 : 36;
  if (!o.layers) o.layers = imagenet ? 14 : 20;
}

std::string millions(int64_t n) { return fmt::format("{:.3f}M ({})", n / 1e6, n); }

int inspect_genotype(InspectOptions o) {
  fill_from_dataset(o);
  auto resolved = train::resolve_genotype(o.genotype, "--genotype");
  eval::EvalNetworkConfig cfg;
  cfg.in_channels = o.in_channels;
  cfg.classes = o.classes;
  cfg.channels = o.channels;
  cfg.layers = o.layers;
  cfg.auxiliary = o.auxiliary;
  cfg.stem = o.stem;
  eval::validate(cfg, "dnas inspect");
  auto cost = eval::network_cost(resolved.genotype, cfg, o.height, o.width);
  const auto& g = resolved.genotype;
  std::cout << "genotype: " << genotype::to_string(g) << "\n  (" << resolved.origin << ")\n"
            << fmt::format("network: {} stem, C={}, L={}, {} classes, input {}x{}x{}\n", o.stem, o.channels, o.layers,
                           o.classes, o.in_channels, o.height, o.width)
            << "parameters: " << millions(cost.parameters) << " without the auxiliary head\n";
  if (o.auxiliary) std::cout << "            " << millions(cost.parameters_with_aux) << " with it\n";
  std::cout << fmt::format("multiply-adds: {:.1f}M per image (convolutions and classifier)\n", cost.multiply_adds / 1e6)
            << fmt::format("skip connections: normal {}, reduce {}\n", genotype::count_op(g.normal, "skip_connect"),
                           genotype::count_op(g.reduce, "skip_connect"))
            << fmt::format("cell depth (longest path in ops): normal {}, reduce {}\n", genotype::cell_depth(g.normal),
                           genotype::cell_depth(g.reduce))
            << "normal cell:\n"
            << genotype::describe_cell(g.normal) << "reduce cell:\n"
            << genotype::describe_cell(g.reduce);
  return 0;
}

int inspect_supernet(const InspectOptions& o) {
  auto cmd = parse_search_command({"--config", o.config});
  const auto& c = cmd.config;
  auto info = data::dataset_info(c.data.dataset, c.data.image_size);
  const auto net = search::supernet_config(c, info, torch::kCPU);
  auto cost = eval::supernet_cost(net, info.height, info.width);
  std::cout << fmt::format("supernet of {} ({}): C={}, L={}, {} nodes, {} edges per cell, input {}x{}x{}\n", o.config,
                           c.run.method, net.channels, net.layers, net.steps, genotype::num_edges(net.steps),
                           info.channels, info.height, info.width)
            << fmt::format("normal ops ({}): {}\nreduce ops ({}): {}\n", net.normal_ops.size(),
                           fmt::join(net.normal_ops, " "), net.reduce_ops.size(), fmt::join(net.reduce_ops, " "))
            << "weights: " << millions(cost.parameters) << " (architecture parameters excluded)\n"
            << fmt::format("multiply-adds: {:.1f}M per image with every op of every edge\n", cost.multiply_adds / 1e6);
  return 0;
}

}  // namespace

int inspect_command(const std::vector<std::string>& args) {
  InspectOptions o;
  po::options_description d(
      "dnas inspect: size, compute and cells of a genotype's network (or of a search's supernet)");
  d.add_options()("help,h", "this help")("genotype,g", po::value(&o.genotype),
                                         "published name, Genotype(...) text, or a genotype.txt / search output dir")(
      "config,c", po::value(&o.config), "a search config (.ini): describe its supernet instead")(
      "dataset", po::value(&o.dataset)->default_value(o.dataset),
      "cifar10 | cifar100 | fashion_mnist | mnist | imagenet: input shape, classes and default C/L")(
      "channels", po::value(&o.channels), "initial channels C (default 36; imagenet 48)")(
      "layers", po::value(&o.layers), "cells L (default 20; imagenet 14)")("stem", po::value(&o.stem),
                                                                           "cifar | imagenet (default from --dataset)")(
      "auxiliary", po::value(&o.auxiliary)->default_value(o.auxiliary), "count the auxiliary head")(
      "classes", po::value(&o.classes), "override the class count")("in_channels", po::value(&o.in_channels),
                                                                    "override the input channels")(
      "height", po::value(&o.height), "override the input height")("width", po::value(&o.width),
                                                                   "override the input width");
  po::positional_options_description pos;
  pos.add("genotype", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad inspect option: ") + e.what(), "command line", "see `dnas inspect --help`");
  }
  if (vm.count("help") || (o.genotype.empty() && o.config.empty())) {
    std::cout << "usage: dnas inspect [--genotype] NAME|TEXT|FILE [options]  |  dnas inspect --config SEARCH.ini\n\n"
              << d;
    return vm.count("help") ? 0 : 2;
  }
  return o.config.empty() ? inspect_genotype(o) : inspect_supernet(o);
}

}  // namespace dnas::cli
