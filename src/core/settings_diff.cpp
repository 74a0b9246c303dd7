#include "dnas/core/settings_diff.h"

#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace dnas::core {
namespace {

// "section.key" -> value of an INI text, without the [run] keys that cannot change results.
std::map<std::string, std::string> result_settings(const std::string& ini) {
  std::map<std::string, std::string> out;
  std::istringstream in(ini);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
      return s;
    };
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (section == "run" && key != "device" && key != "precision") continue;
    out[section + "." + key] = value;
  }
  return out;
}

// The configs a text holds, one after the other: a section seen again starts the next one.
std::vector<std::string> configs_of(const std::string& text) {
  std::vector<std::string> out{""};
  std::istringstream in(text);
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[' && !seen.insert(line).second) {
      out.emplace_back();
      seen = {line};
    }
    out.back() += line + "\n";
  }
  return out;
}

}  // namespace

std::string first_setting_difference(const std::string& before, const std::string& now) {
  const auto a = configs_of(before), b = configs_of(now);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const auto x = result_settings(a[i]), y = result_settings(b[i]);
    for (const auto& [key, value] : y) {
      auto it = x.find(key);
      if (it != x.end() && it->second != value) return key + ": '" + it->second + "' -> '" + value + "'";
    }
  }
  return "";
}

}  // namespace dnas::core
