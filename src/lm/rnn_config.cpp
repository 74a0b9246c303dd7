#include "dnas/lm/rnn_config.h"

#include <algorithm>

#include "dnas/core/error.h"
#include "dnas/lm/rnn_genotype.h"

namespace dnas::lm {
namespace {

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) fail(key + " " + what, key, "fix the value in the config or with --" + key + "=...");
}

void check_dropout(double p, const std::string& key) { require(p >= 0 && p < 1, key, "must be in [0, 1)"); }

}  // namespace

RnnSearchMethod parse_rnn_search_method(const std::string& value) {
  if (value == "darts_1st") return RnnSearchMethod::Darts1st;
  if (value == "darts_2nd") return RnnSearchMethod::Darts2nd;
  if (value == "nasp") return RnnSearchMethod::Nasp;
  fail("invalid value '" + abbreviated(value) + "' for search.method: not a recurrent search method", "search.method",
       "choose one of: darts_1st, darts_2nd, nasp");
}

std::vector<std::string> search_ops(const RnnSearchSettings& s) {
  if (!s.ops.empty()) return s.ops;
  std::vector<std::string> ops = rnn_activations();
  if (s.method != "nasp") ops.insert(ops.begin(), "none");
  return ops;
}

void validate(const RnnConfig& c) {
  require(!c.corpus.empty(), "data.corpus", "is empty: name a directory with train.txt, valid.txt, test.txt");
  require(c.limit_tokens >= 0, "data.limit_tokens", "must be >= 0");
  require(c.model.hidden > 0, "model.hidden", "must be positive");
  require(c.model.steps > 0, "model.steps", "must be positive");
  check_dropout(c.model.dropout, "model.dropout");
  check_dropout(c.model.dropout_h, "model.dropout_h");
  check_dropout(c.model.dropout_x, "model.dropout_x");
  check_dropout(c.model.dropout_i, "model.dropout_i");
  check_dropout(c.model.dropout_e, "model.dropout_e");
  const auto& s = c.search;
  const auto method = parse_rnn_search_method(s.method);
  require(s.epochs >= 0, "search.epochs", "must be >= 0");
  require(s.batch_size > 0, "search.batch_size", "must be positive");
  require(s.eval_batch_size > 0, "search.eval_batch_size", "must be positive");
  require(s.bptt > 0, "search.bptt", "must be positive");
  require(s.lr > 0, "search.lr", "must be positive");
  require(s.clip >= 0, "search.clip", "must be >= 0");
  require(s.arch_lr > 0, "search.arch_lr", "must be positive");
  const auto ops = search_ops(s);
  for (const auto& op : ops) {
    const auto& acts = rnn_activations();
    const bool known = op == "none" || std::find(acts.begin(), acts.end(), op) != acts.end();
    require(known, "search.ops", "has unknown op '" + op + "' (tanh relu sigmoid identity, and none for DARTS)");
    require(!(op == "none" && method == RnnSearchMethod::Nasp), "search.ops",
            "contains none, which NASP cannot select (a one-hot none edge would cut the node off)");
  }
  require(!(ops.size() == 1 && ops[0] == "none"), "search.ops", "has only none");
  const auto& r = c.retrain;
  require(r.epochs >= 0, "retrain.epochs", "must be >= 0");
  require(r.hidden > 0, "retrain.hidden", "must be positive");
  require(r.batch_size > 0 && r.eval_batch_size > 0 && r.test_batch_size > 0, "retrain.batch_size",
          "(and eval_batch_size, test_batch_size) must be positive");
  require(r.bptt > 0, "retrain.bptt", "must be positive");
  require(r.lr > 0, "retrain.lr", "must be positive");
  require(r.nonmono >= 0, "retrain.nonmono", "must be >= 0");
  check_dropout(r.dropout, "retrain.dropout");
  check_dropout(r.dropout_h, "retrain.dropout_h");
  check_dropout(r.dropout_x, "retrain.dropout_x");
  check_dropout(r.dropout_i, "retrain.dropout_i");
  check_dropout(r.dropout_e, "retrain.dropout_e");
}

}  // namespace dnas::lm
