#include "dnas/search/search_config.h"

#include <algorithm>

#include "dnas/comm/device.h"
#include "dnas/core/error.h"
#include "dnas/ops/op_names.h"
#include "dnas/search/strategy_factory.h"

namespace dnas::search {
namespace {

std::vector<std::string> resolve(const std::vector<std::string>& explicit_ops,
                                 const std::string& op_set, ops::CellType cell,
                                 const std::string& key) {
  if (explicit_ops.empty()) return ops::op_set(op_set, cell);
  std::vector<std::string> out;
  for (const auto& op : explicit_ops) out.push_back(ops::canonical_op_name(op, key));
  return out;
}

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) fail("invalid value for " + key, key, what);
}

// NASP's split of the op space (normal: identity + convolutions, reduction: identity + pooling)
// applied to nasp7 when nasp.restrict7 is on.
std::vector<std::string> restricted(std::vector<std::string> ops, const SearchConfig& c, ops::CellType cell,
                                    bool explicit_list) {
  if (!(c.run.method == "nasp" && c.nasp.restrict7 && c.supernet.op_set == "nasp7") || explicit_list) return ops;
  const std::string kind = cell == ops::CellType::Normal ? "conv" : "pool";
  ops.erase(std::remove_if(ops.begin(), ops.end(),
                           [&](const std::string& op) { return op != "skip_connect" && op.find(kind) == std::string::npos; }),
            ops.end());
  return ops;
}

}  // namespace

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
  require(c.data.batch_size >= 1, "data.batch_size", "must be >= 1");
  require(c.data.train_portion > 0 && c.data.train_portion < 1, "data.train_portion",
          "must be in (0, 1)");
  require(c.data.limit >= 0, "data.limit", "must be >= 0 (0 = all images)");
  require(c.data.crop_padding >= 0, "data.crop_padding", "must be >= 0");
  require(c.supernet.channels >= 2 && c.supernet.channels % 2 == 0, "supernet.channels",
          "must be even and >= 2 (FactorizedReduce halves it)");
  require(c.supernet.layers >= 1, "supernet.layers", "must be >= 1");
  require(c.supernet.steps >= 1, "supernet.steps", "must be >= 1");
  require(c.supernet.stem_multiplier >= 1, "supernet.stem_multiplier", "must be >= 1");
  normal_op_names(c);  // throw on unknown ops / sets
  if (c.run.method == "nasp")
    for (const auto& ops : {normal_op_names(c), reduce_op_names(c)})
      require(std::find(ops.begin(), ops.end(), "none") == ops.end(), "supernet.op_set",
              "NASP selects one op per edge from alphas that all start at 0.5, so `none` (op 0) would be chosen "
              "everywhere: use supernet.op_set=nasp7 or nasp12");
  reduce_op_names(c);
  require(c.optim.epochs >= 1, "search.epochs", "must be >= 1");
  require(c.optim.w_lr > 0 && c.optim.w_lr_min >= 0 && c.optim.w_lr_min <= c.optim.w_lr,
          "search.w_lr", "need w_lr > 0 and 0 <= w_lr_min <= w_lr");
  require(c.optim.w_momentum >= 0 && c.optim.w_momentum < 1, "search.w_momentum", "must be in [0, 1)");
  require(c.optim.w_weight_decay >= 0, "search.w_weight_decay", "must be >= 0");
  require(c.optim.w_grad_clip >= 0, "search.w_grad_clip", "must be >= 0 (0 = off)");
  require(c.optim.arch_lr > 0, "search.arch_lr", "must be > 0");
  require(c.optim.arch_beta1 >= 0 && c.optim.arch_beta1 < 1 && c.optim.arch_beta2 >= 0 &&
              c.optim.arch_beta2 < 1,
          "search.arch_beta1", "Adam betas must be in [0, 1)");
  require(c.optim.hessian_radius > 0, "search.hessian_radius", "must be > 0");
  require(c.optim.derive_edges == "input" || c.optim.derive_edges == "output", "search.derive_edges",
          "must be input or output");
  require(c.optim.derive_edges == "input" || c.run.method == "darts_1st" || c.run.method == "darts_2nd",
          "search.derive_edges", "output edges are a DARTS derivation: use darts_1st or darts_2nd (SC has sc.perspective)");
  require(c.optim.steps_per_epoch >= 0, "search.steps_per_epoch", "must be >= 0 (0 = full epoch)");
  require(c.optim.eval_batches >= 0, "search.eval_batches", "must be >= 0 (0 = all)");
  require(c.gdas.tau_max > 0 && c.gdas.tau_min > 0 && c.gdas.tau_min <= c.gdas.tau_max, "gdas.tau_min",
          "need 0 < gdas.tau_min <= gdas.tau_max");
  require(c.gdas.derive == "darts" || c.gdas.derive == "autodl", "gdas.derive", "darts or autodl");
  require(c.milenas.lambda >= 0, "milenas.lambda", "must be >= 0");
  require(c.nasp.variant == "nasp" || c.nasp.variant == "lazy" || c.nasp.variant == "standard", "nasp.variant",
          "nasp, lazy or standard");
  require(c.nasp.discrete_value == "one" || c.nasp.discrete_value == "alpha", "nasp.discrete_value", "one or alpha");
  require(c.nasp.eta >= 0, "nasp.eta", "must be >= 0");
  require(c.nasp.greedy >= 0 && c.nasp.greedy <= 1, "nasp.greedy", "a probability in [0, 1]");
  require(c.nasp.derive == "discrete" || c.nasp.derive == "softmax", "nasp.derive", "discrete or softmax");
  require(!c.nasp.restrict7 || c.supernet.op_set == "nasp7", "nasp.restrict7", "splits supernet.op_set=nasp7 only (nasp12 is split already)");
  require(!c.optim.w_nesterov || c.optim.w_momentum > 0, "search.w_nesterov", "Nesterov momentum needs search.w_momentum > 0");
  require(c.random.candidates >= 1, "random.candidates", "must be >= 1");
  require(c.random.eval_batches >= 1, "random.eval_batches", "must be >= 1");
  require(c.sc.variant == "stretchable" || c.sc.variant == "fixed2", "sc.variant", "stretchable or fixed2");
  require(c.sc.perspective == "output" || c.sc.perspective == "input", "sc.perspective", "output or input");
  require(c.sc.lambda >= 0, "sc.lambda", "must be >= 0");
  require(c.sc.orphan == "drop" || c.sc.orphan == "repair", "sc.orphan", "drop or repair");
  require(c.sc.val_split == "auto" || c.sc.val_split == "shared" || c.sc.val_split == "separate", "sc.val_split",
          "auto, shared or separate");
  require(c.eoinas.warmup_epochs >= 0, "eoinas.warmup_epochs", "must be >= 0");
  require(c.eoinas.prune_every >= 1, "eoinas.prune_every", "must be >= 1");
  require(c.eoinas.lambda >= 0, "eoinas.lambda", "must be >= 0");
  require(c.eoinas.forward == "soft" || c.eoinas.forward == "hard", "eoinas.forward", "soft or hard");
  require(c.eoinas.acc_stat == "last" || c.eoinas.acc_stat == "mean", "eoinas.acc_stat", "last or mean");
  require(c.eoinas.temp0 > 0 && c.eoinas.temp_decay > 0 && c.eoinas.temp_decay <= 1, "eoinas.temp_decay",
          "need eoinas.temp0 > 0 and 0 < eoinas.temp_decay <= 1");
  require(c.eoinas.alpha_init == "zeros" || c.eoinas.alpha_init == "random", "eoinas.alpha_init", "zeros or random");
  require(c.eoinas.arch_grad_clip >= 0, "eoinas.arch_grad_clip", "must be >= 0 (0 = off)");
  require(c.eoinas.c_reference_window >= 0, "eoinas.c_reference_window", "must be >= 0 (0 = C unscaled)");
  require(c.eoinas.C_when_Ce0 == "0" || c.eoinas.C_when_Ce0 == "inf", "eoinas.C_when_Ce0", "0 or inf");
  require(c.itnas.tau0 > 0 && c.itnas.tau_min > 0 && c.itnas.tau_min <= c.itnas.tau0, "itnas.tau_min",
          "need 0 < itnas.tau_min <= itnas.tau0");
  require(c.itnas.derive_from == "sample" || c.itnas.derive_from == "probs", "itnas.derive_from", "sample or probs");
  require(!c.itnas.tiep || c.itnas.transition, "itnas.tiep",
          "TIEP derives inner edges through the transition matrices: set itnas.transition=true or itnas.tiep=false");
  require(c.run.threads >= 0, "run.threads", "must be >= 0 (0 = all cores)");
  require(comm::is_device_spec(c.run.device), "run.device", "must be cpu, cuda or cuda:N");
  require(c.run.log_period_s > 0, "run.log_period_s", "must be > 0");
  require(is_known_method(c.run.method), "search.method",
          "choose one of: " + known_methods_text());
}

}  // namespace dnas::search
