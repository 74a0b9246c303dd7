#include "dnas/search/strategy_factory.h"

#include <vector>

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

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = {"darts_1st", "darts_2nd", "milenas", "gdas", "eoinas", "itnas", "darts_sc", "milenas_sc", "nasp", "random", "random_ws"};
  return names;
}

}  // namespace

bool is_known_method(const std::string& name) {
  for (const auto& n : method_names())
    if (n == name) return true;
  return false;
}

std::string known_methods_text() {
  std::string s;
  for (const auto& n : method_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

ScConfig resolved_sc(const SearchConfig& config) {
  ScConfig sc = config.sc;
  // The Stretchable Cells paper splits its data three ways (w, alpha, beta) only for the ImageNet
  // search of MiLeNAS-SC; on CIFAR it states no third split, so beta shares alpha's split.
  if (sc.val_split == "auto")
    sc.val_split = config.run.method == "milenas_sc" && config.data.dataset == "imagenet" ? "separate" : "shared";
  return sc;
}

supernet::SupernetConfig supernet_config(const SearchConfig& c, const data::DatasetInfo& info, torch::Device device) {
  supernet::SupernetConfig n;
  n.device = device;
  n.in_channels = info.channels;
  n.classes = info.classes;
  n.channels = c.supernet.channels;
  n.layers = c.supernet.layers;
  n.steps = c.supernet.steps;
  n.stem_multiplier = c.supernet.stem_multiplier;
  n.normal_ops = normal_op_names(c);
  n.reduce_ops = reduce_op_names(c);
  return n;
}

std::unique_ptr<SearchStrategy> make_strategy(const SearchConfig& config,
                                              const supernet::SupernetConfig& net) {
  const auto& m = config.run.method;
  if (m == "darts_1st") return std::make_unique<DartsStrategy>(1, net, config.optim);
  if (m == "darts_2nd") return std::make_unique<DartsStrategy>(2, net, config.optim);
  if (m == "milenas")
    return std::make_unique<MilenasStrategy>(net, config.optim, config.milenas.lambda,
                                             config.milenas.clip_arch_grads_like_code ? config.optim.w_grad_clip : 0.0);
  if (m == "gdas") return std::make_unique<GdasStrategy>(net, config.optim, config.gdas);
  if (m == "darts_sc") return std::make_unique<ScStrategy>("darts", net, config.optim, resolved_sc(config), config.milenas.lambda);
  if (m == "milenas_sc") return std::make_unique<ScStrategy>("milenas", net, config.optim, resolved_sc(config), config.milenas.lambda);
  if (m == "nasp") return std::make_unique<NaspStrategy>(net, config.optim, config.nasp);
  if (m == "eoinas") return std::make_unique<EoinasStrategy>(net, config.optim, config.eoinas);
  if (m == "itnas") return std::make_unique<ItnasStrategy>(net, config.optim, config.itnas);
  if (m == "random") return std::make_unique<RandomStrategy>(net, config.run.seed);
  if (m == "random_ws") return std::make_unique<RandomWsStrategy>(net, config.run.seed, config.random);
  fail("unknown search method '" + m + "'", "search.method", "choose one of: " + known_methods_text());
}

}  // namespace dnas::search
