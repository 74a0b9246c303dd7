#include "dnas/search/search_config.h"

#include <algorithm>

#include "config_checks.h"
#include "dnas/comm/device.h"
#include "dnas/core/config_keys.h"
#include "dnas/ops/op_names.h"
#include "dnas/ops/precision.h"
#include "dnas/search/search_keys.h"

namespace dnas::search {
namespace {

std::vector<std::string> resolve(const std::vector<std::string>& explicit_ops, const std::string& op_set,
                                 ops::CellType cell, const std::string& key) {
  if (explicit_ops.empty()) return ops::op_set(op_set, cell);
  std::vector<std::string> out;
  for (const auto& op : explicit_ops) out.push_back(ops::canonical_op_name(op, key));
  return out;
}

constexpr ModeName<DeriveEdges> kDeriveEdgesNames[] = {{DeriveEdges::Input, "input"}, {DeriveEdges::Output, "output"}};

constexpr ModeName<Method> kMethodNames[] = {
    {Method::Darts1st, "darts_1st"}, {Method::Darts2nd, "darts_2nd"},   {Method::Milenas, "milenas"},
    {Method::Gdas, "gdas"},          {Method::Eoinas, "eoinas"},        {Method::Itnas, "itnas"},
    {Method::DartsSc, "darts_sc"},   {Method::MilenasSc, "milenas_sc"}, {Method::Nasp, "nasp"},
    {Method::Random, "random"},      {Method::RandomWs, "random_ws"}};

// NASP's split of the op space (normal: identity + convolutions, reduction: identity + pooling)
// applied to nasp7 when nasp.restrict7 is on.
std::vector<std::string> restricted(std::vector<std::string> ops, const SearchConfig& c, ops::CellType cell,
                                    bool explicit_list) {
  if (!(c.nasp.restrict7 && c.supernet.op_set == "nasp7" && parse_method(c.run.method) == Method::Nasp) ||
      explicit_list)
    return ops;
  const std::string kind = cell == ops::CellType::Normal ? "conv" : "pool";
  ops.erase(
      std::remove_if(ops.begin(), ops.end(),
                     [&](const std::string& op) { return op != "skip_connect" && op.find(kind) == std::string::npos; }),
      ops.end());
  return ops;
}

}  // namespace

DeriveEdges parse_derive_edges(const std::string& value) {
  return parse_mode(kDeriveEdgesNames, value, "search.derive_edges");
}
const char* mode_name(DeriveEdges mode) { return mode_name(kDeriveEdgesNames, mode); }

Method parse_method(const std::string& name) { return parse_mode(kMethodNames, name, "search.method"); }
const char* method_name(Method method) { return mode_name(kMethodNames, method); }

bool is_known_method(const std::string& name) {
  for (const auto& m : kMethodNames)
    if (name == m.name) return true;
  return false;
}

std::string known_methods_text() { return mode_choices(kMethodNames); }

std::vector<std::string> normal_op_names(const SearchConfig& c) {
  const auto& s = c.supernet;
  return restricted(resolve(s.normal_ops, s.op_set, ops::CellType::Normal, "supernet.normal_ops"), c,
                    ops::CellType::Normal, !s.normal_ops.empty());
}

std::vector<std::string> reduce_op_names(const SearchConfig& c) {
  const auto& s = c.supernet;
  return restricted(resolve(s.reduce_ops, s.op_set, ops::CellType::Reduce, "supernet.reduce_ops"), c,
                    ops::CellType::Reduce, !s.reduce_ops.empty());
}

void validate(const SearchConfig& c) {
  const Method method = parse_method(c.run.method);
  auto copy = c;
  core::check_ranges(search_keys(copy), "search settings");  // finite values, each key's bounds
  require(c.data.train_portion > 0 && c.data.train_portion < 1, "data.train_portion", "must be in (0, 1)");
  require(c.supernet.channels >= 2 && c.supernet.channels % 2 == 0, "supernet.channels",
          "must be even and >= 2 (FactorizedReduce halves it)");
  normal_op_names(c);  // throw on unknown ops / sets
  if (method == Method::Nasp)
    for (const auto& ops : {normal_op_names(c), reduce_op_names(c)})
      require(std::find(ops.begin(), ops.end(), "none") == ops.end(), "supernet.op_set",
              "NASP selects one op per edge from alphas that all start at 0.5, so `none` (op 0) would be chosen "
              "everywhere: use supernet.op_set=nasp7 or nasp12");
  reduce_op_names(c);
  require(c.optim.w_lr > 0 && c.optim.w_lr_min >= 0 && c.optim.w_lr_min <= c.optim.w_lr, "search.w_lr",
          "need w_lr > 0 and 0 <= w_lr_min <= w_lr");
  require(c.optim.w_momentum >= 0 && c.optim.w_momentum < 1, "search.w_momentum", "must be in [0, 1)");
  require(c.optim.arch_lr > 0, "search.arch_lr", "must be > 0");
  require(c.optim.arch_beta1 >= 0 && c.optim.arch_beta1 < 1 && c.optim.arch_beta2 >= 0 && c.optim.arch_beta2 < 1,
          "search.arch_beta1", "Adam betas must be in [0, 1)");
  require(c.optim.hessian_radius > 0, "search.hessian_radius", "must be > 0");
  require(parse_derive_edges(c.optim.derive_edges) == DeriveEdges::Input || method == Method::Darts1st ||
              method == Method::Darts2nd,
          "search.derive_edges",
          "output edges are a DARTS derivation: use darts_1st or darts_2nd (SC has sc.perspective)");
  require(!c.optim.w_nesterov || c.optim.w_momentum > 0, "search.w_nesterov",
          "Nesterov momentum needs search.w_momentum > 0");
  validate(c.gdas);
  validate(c.nasp);
  require(!c.nasp.restrict7 || c.supernet.op_set == "nasp7", "nasp.restrict7",
          "splits supernet.op_set=nasp7 only (nasp12 is split already)");
  validate(c.sc);
  validate(c.eoinas);
  validate(c.itnas);
  require(comm::is_device_spec(c.run.device), "run.device", "must be cpu, cuda or cuda:N");
  require(ops::parse_precision(c.run.precision, "run.precision") != ops::Precision::Fp16, "run.precision",
          "searches run in fp32 or bf16 (fp16 with loss scaling is for retraining on CUDA)");
  require(c.run.log_period_s > 0, "run.log_period_s", "must be > 0");
}

}  // namespace dnas::search
