#include "dnas/lm/rnn_genotype.h"

#include <algorithm>
#include <regex>

#include "dnas/core/error.h"

namespace dnas::lm {
namespace {

constexpr const char* kFormHint =
    "expected Genotype(recurrent=[('tanh', 0), ('relu', 1), ...], concat=range(1, 9)) or a published name "
    "(DARTS_V1, DARTS_V2)";

std::vector<int> parse_concat(const std::string& text, const std::string& where) {
  std::smatch m;
  std::vector<int> out;
  if (std::regex_match(text, m, std::regex(R"(\s*range\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*)"))) {
    for (int i = std::stoi(m[1]); i < std::stoi(m[2]); ++i) out.push_back(i);
    return out;
  }
  if (std::regex_match(text, m, std::regex(R"(\s*\[([\d,\s]*)\]\s*)"))) {
    const std::string list = m[1];
    const std::regex number(R"(\d+)");
    for (auto it = std::sregex_iterator(list.begin(), list.end(), number); it != std::sregex_iterator(); ++it)
      out.push_back(std::stoi(it->str()));
    return out;
  }
  fail("cannot read the concat '" + text + "' of a recurrent genotype", where, kFormHint);
}

void validate(const RnnGenotype& g, const std::string& where) {
  const auto& acts = rnn_activations();
  const int n = static_cast<int>(g.recurrent.size());
  if (n == 0) fail("recurrent genotype has no nodes", where, kFormHint);
  for (int i = 0; i < n; ++i) {
    const auto& [act, pred] = g.recurrent[static_cast<size_t>(i)];
    if (std::find(acts.begin(), acts.end(), act) == acts.end())
      fail("unknown activation '" + act + "' at node " + std::to_string(i + 1), where,
           "the recurrent space has tanh, relu, sigmoid, identity");
    if (pred < 0 || pred > i)
      fail("node " + std::to_string(i + 1) + " takes predecessor " + std::to_string(pred), where,
           "node i may only read nodes 0..i-1");
  }
  if (g.concat.empty()) fail("recurrent genotype has an empty concat", where, kFormHint);
  for (size_t k = 0; k < g.concat.size(); ++k) {
    if (g.concat[k] < 0 || g.concat[k] > n || (k > 0 && g.concat[k] <= g.concat[k - 1]))
      fail("concat must list distinct nodes 0.." + std::to_string(n) + " in ascending order", where, kFormHint);
  }
}

}  // namespace

const std::vector<std::string>& rnn_activations() {
  static const std::vector<std::string> kActivations = {"tanh", "relu", "sigmoid", "identity"};
  return kActivations;
}

RnnGenotype parse_rnn_genotype(const std::string& text, const std::string& where) {
  std::smatch m;
  if (!std::regex_match(text, m,
                        std::regex(R"(\s*Genotype\s*\(\s*recurrent\s*=\s*\[(.*)\]\s*,\s*concat\s*=\s*(.*)\)\s*)")))
    fail("cannot read the recurrent genotype '" + text + "'", where, kFormHint);
  RnnGenotype g;
  const std::string genes = m[1];
  const std::regex gene(R"(\(\s*'([^']*)'\s*,\s*(\d+)\s*\))");
  size_t consumed = 0;
  for (auto it = std::sregex_iterator(genes.begin(), genes.end(), gene); it != std::sregex_iterator(); ++it) {
    const auto gap = genes.substr(consumed, static_cast<size_t>(it->position()) - consumed);
    if (gap.find_first_not_of(", \t") != std::string::npos)
      fail("unexpected text '" + gap + "' in the recurrent genotype", where, kFormHint);
    g.recurrent.emplace_back((*it)[1], std::stoi((*it)[2]));
    consumed = static_cast<size_t>(it->position() + it->length());
  }
  if (genes.substr(consumed).find_first_not_of(", \t") != std::string::npos)
    fail("unexpected text '" + genes.substr(consumed) + "' in the recurrent genotype", where, kFormHint);
  g.concat = parse_concat(m[2], where);
  validate(g, where);
  return g;
}

std::string format_rnn_genotype(const RnnGenotype& g) {
  std::string s = "Genotype(recurrent=[";
  for (size_t i = 0; i < g.recurrent.size(); ++i)
    s += (i ? ", ('" : "('") + g.recurrent[i].first + "', " + std::to_string(g.recurrent[i].second) + ")";
  s += "], concat=";
  bool contiguous = true;
  for (size_t k = 1; k < g.concat.size(); ++k) contiguous = contiguous && g.concat[k] == g.concat[k - 1] + 1;
  if (contiguous && !g.concat.empty()) {
    s += "range(" + std::to_string(g.concat.front()) + ", " + std::to_string(g.concat.back() + 1) + "))";
  } else {
    s += "[";
    for (size_t k = 0; k < g.concat.size(); ++k) s += (k ? ", " : "") + std::to_string(g.concat[k]);
    s += "])";
  }
  return s;
}

RnnGenotype published_rnn_genotype(const std::string& name) {
  // The PTB cells of the DARTS paper (first and second order).
  if (name == "DARTS_V1")
    return parse_rnn_genotype(
        "Genotype(recurrent=[('relu', 0), ('relu', 1), ('tanh', 2), ('relu', 3), ('relu', 4), ('identity', 1), "
        "('relu', 5), ('relu', 1)], concat=range(1, 9))",
        name);
  if (name == "DARTS_V2")
    return parse_rnn_genotype(
        "Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ('relu', 1), ('identity', 1), ('tanh', 2), ('sigmoid', 5), "
        "('tanh', 3), ('relu', 5)], concat=range(1, 9))",
        name);
  fail("unknown recurrent genotype name '" + name + "'", "genotype", "published recurrent cells: DARTS_V1, DARTS_V2");
}

RnnGenotype resolve_rnn_genotype(const std::string& name_or_text, const std::string& where) {
  if (name_or_text.find('(') == std::string::npos) return published_rnn_genotype(name_or_text);
  return parse_rnn_genotype(name_or_text, where);
}

}  // namespace dnas::lm
