#include "dnas/ops/op_names.h"

#include <algorithm>
#include <unordered_map>

#include "dnas/core/error.h"

namespace dnas::ops {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

const std::vector<std::string>& known_op_names() {
  static const std::vector<std::string> names = {"none",         "skip_connect", "max_pool_3x3", "max_pool_5x5",
                                                 "max_pool_7x7", "avg_pool_3x3", "sep_conv_3x3", "sep_conv_5x5",
                                                 "sep_conv_7x7", "dil_conv_3x3", "dil_conv_5x5", "conv_1x1",
                                                 "conv_3x3",     "conv_3x1_1x3", "conv_7x1_1x7"};
  return names;
}

std::string canonical_op_name(const std::string& name, const std::string& context) {
  static const std::unordered_map<std::string, std::string> aliases = {
      {"conv 1x1", "conv_1x1"},         {"conv 3x3", "conv_3x3"},        {"sep_3x3", "sep_conv_3x3"},
      {"sep_5x5", "sep_conv_5x5"},      {"sep_7x7", "sep_conv_7x7"},     {"identity", "skip_connect"},
      {"conv_1x3_3x1", "conv_3x1_1x3"}, {"conv_1x7_7x1", "conv_7x1_1x7"}};
  const auto& names = known_op_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return name;
  auto it = aliases.find(name);
  if (it != aliases.end()) return it->second;
  fail("unknown operation '" + name + "'", context, "known ops: " + join(names));
}

bool is_known_op(const std::string& name) {
  try {
    canonical_op_name(name);
    return true;
  } catch (const Error&) {
    return false;
  }
}

const std::vector<std::string>& op_set_names() {
  static const std::vector<std::string> names = {"darts8", "darts7", "nasp7", "nasp12"};
  return names;
}

std::vector<std::string> op_set(const std::string& set_name, CellType cell) {
  static const std::vector<std::string> darts8 = {"none",         "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                                  "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"};
  if (set_name == "darts8") return darts8;
  if (set_name == "darts7" || set_name == "nasp7") return {darts8.begin() + 1, darts8.end()};
  if (set_name == "nasp12") {
    if (cell == CellType::Normal)
      return {"skip_connect", "conv_3x1_1x3", "dil_conv_3x3", "conv_1x1",
              "conv_3x3",     "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7"};
    return {"skip_connect", "avg_pool_3x3", "max_pool_3x3", "max_pool_5x5", "max_pool_7x7"};
  }
  fail("unknown op set '" + set_name + "'", "ops",
       "choose one of: " + join(op_set_names()) + ", or list ops separated by spaces");
}

}  // namespace dnas::ops
