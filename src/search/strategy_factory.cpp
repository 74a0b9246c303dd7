#include "dnas/search/strategy_factory.h"

#include "dnas/core/error.h"
#include "dnas/search/darts.h"
#include "dnas/search/eoinas.h"
#include "dnas/search/gdas.h"
#include "dnas/search/itnas.h"
#include "dnas/search/milenas.h"
#include "dnas/search/nasp.h"
#include "dnas/search/random_search.h"
#include "dnas/search/sc.h"

namespace dnas::search {
namespace {

// sc.val_split with `auto` resolved for the run's method and dataset.
ScConfig resolved_sc(const SearchConfig& config, Method method) {
  ScConfig sc = config.sc;
  // The Stretchable Cells paper splits its data three ways (w, alpha, beta) only for the ImageNet
  // search of MiLeNAS-SC; on CIFAR it states no third split, so beta shares alpha's split.
  if (parse_sc_val_split(sc.val_split) == ScValSplit::Auto) {
    const bool separate = method == Method::MilenasSc && config.data.dataset == "imagenet";
    sc.val_split = mode_name(separate ? ScValSplit::Separate : ScValSplit::Shared);
  }
  return sc;
}

}  // namespace

supernet::SupernetConfig supernet_config(const SearchConfig& c, const data::DatasetInfo& info, torch::Device device) {
  supernet::SupernetConfig n;
  n.device = device;
  n.precision = ops::parse_precision(c.run.precision, "run.precision");
  n.in_channels = info.channels;
  n.classes = info.classes;
  n.channels = c.supernet.channels;
  n.layers = c.supernet.layers;
  n.steps = c.supernet.steps;
  n.stem_multiplier = c.supernet.stem_multiplier;
  n.channels_last = c.supernet.channels_last;
  n.normal_ops = normal_op_names(c);
  n.reduce_ops = reduce_op_names(c);
  return n;
}

std::unique_ptr<SearchStrategy> make_strategy(const SearchConfig& config, const supernet::SupernetConfig& net) {
  const Method method = parse_method(config.run.method);
  switch (method) {
    case Method::Darts1st:
      return std::make_unique<DartsStrategy>(1, net, config.optim);
    case Method::Darts2nd:
      return std::make_unique<DartsStrategy>(2, net, config.optim);
    case Method::Milenas:
      return std::make_unique<MilenasStrategy>(
          net, config.optim, config.milenas.lambda,
          config.milenas.clip_arch_grads_like_code ? config.optim.w_grad_clip : 0.0);
    case Method::Gdas:
      return std::make_unique<GdasStrategy>(net, config.optim, config.gdas);
    case Method::DartsSc:
      return std::make_unique<ScStrategy>(ScBase::Darts, net, config.optim, resolved_sc(config, method),
                                          config.milenas.lambda);
    case Method::MilenasSc:
      return std::make_unique<ScStrategy>(ScBase::Milenas, net, config.optim, resolved_sc(config, method),
                                          config.milenas.lambda);
    case Method::Nasp:
      return std::make_unique<NaspStrategy>(net, config.optim, config.nasp);
    case Method::Eoinas:
      return std::make_unique<EoinasStrategy>(net, config.optim, config.eoinas);
    case Method::Itnas:
      return std::make_unique<ItnasStrategy>(net, config.optim, config.itnas);
    case Method::Random:
      return std::make_unique<RandomStrategy>(net, config.run.seed);
    case Method::RandomWs:
      return std::make_unique<RandomWsStrategy>(net, config.run.seed, config.random);
  }
  fail("search method '" + config.run.method + "' has no strategy", "search.method", "report this as a bug");
}

}  // namespace dnas::search
