#pragma once
// Checks shared by the search config files: a requirement on a key's value, and the name table
// that maps a mode key's text to its enum and back.
#include <cstddef>
#include <string>

#include "dnas/core/error.h"

namespace dnas::search {

inline void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) fail("invalid value for " + key, key, what);
}

// One value of a mode enum and its spelling in the config (`gdas.derive = autodl`).
template <class Mode>
struct ModeName {
  Mode mode;
  const char* name;
};

// "a, b, c" from a name table, for error hints.
template <class Mode, size_t N>
std::string mode_choices(const ModeName<Mode> (&names)[N]) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + std::string(n.name);
  return s;
}

// The mode spelled `value`; throws dnas::Error naming `key` and the allowed values otherwise.
template <class Mode, size_t N>
Mode parse_mode(const ModeName<Mode> (&names)[N], const std::string& value, const std::string& key) {
  for (const auto& n : names)
    if (value == n.name) return n.mode;
  fail("invalid value '" + abbreviated(value) + "' for " + key, key, "choose one of: " + mode_choices(names));
}

template <class Mode, size_t N>
const char* mode_name(const ModeName<Mode> (&names)[N], Mode mode) {
  for (const auto& n : names)
    if (n.mode == mode) return n.name;
  fail("a mode without a name", "search config", "report this as a bug");
}

}  // namespace dnas::search
