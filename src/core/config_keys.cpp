#include "dnas/core/config_keys.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "dnas/core/error.h"

namespace dnas::core {
namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool parse_bool(const std::string& t, bool& out) {
  for (const char* yes : {"true", "1", "yes", "on"})
    if (t == yes) return out = true, true;
  for (const char* no : {"false", "0", "no", "off"})
    if (t == no) return out = false, true;
  return false;
}

bool parse_integer(const std::string& t, long long lo, long long hi, long long& out) {
  if (t.empty() || t[0] == ' ') return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtoll(t.c_str(), &end, 10);
  return errno == 0 && *end == '\0' && out >= lo && out <= hi;
}

bool parse_double(const std::string& t, double& out) {
  if (t.empty() || t[0] == ' ') return false;
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  return *end == '\0';
}

// The value as a double for range checks (non-numeric keys: none).
std::optional<double> numeric_value(const FieldRef& field) {
  return std::visit(Overload{[](bool*) -> std::optional<double> { return std::nullopt; },
                             [](std::string*) -> std::optional<double> { return std::nullopt; },
                             [](std::vector<std::string>*) -> std::optional<double> { return std::nullopt; },
                             [](auto* p) -> std::optional<double> { return static_cast<double>(*p); }},
                    field);
}

void check_range(const ConfigKey& key, const std::string& where) {
  if (std::holds_alternative<uint64_t*>(key.field) &&
      *std::get<uint64_t*>(key.field) > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(key.name + " = " + format_value(key.field) + " is out of range (a negative number wrapped around?)",
         where + ": " + key.name, "give a value between 0 and 2^63 - 1");
  const auto v = numeric_value(key.field);
  if (!v) return;
  if (!std::isfinite(*v))
    fail(key.name + " = " + format_value(key.field) + " is not a finite number", where + ": " + key.name,
         "give a finite value");
  if ((key.min && *v < *key.min) || (key.max && *v > *key.max)) {
    const std::string range = key.max ? fmt::format("between {} and {}", key.min ? *key.min : -HUGE_VAL, *key.max)
                                      : fmt::format("at least {}", *key.min);
    fail(key.name + " = " + format_value(key.field) + " is out of range", where + ": " + key.name,
         "give a value " + range);
  }
}

std::string ini_text(const KeyTable& table, bool identity_only) {
  std::string out, section;
  for (const auto& key : table.keys()) {
    if (identity_only && !key.changes_results) continue;
    const auto dot = key.name.find('.');
    const auto s = key.name.substr(0, dot);
    if (s != section) out += "[" + (section = s) + "]\n";
    out += key.name.substr(dot + 1) + " = " + format_value(key.field) + "\n";
  }
  return out;
}

}  // namespace

ConfigKey& KeyTable::add(std::string name, FieldRef field, std::string help) {
  keys_.push_back({std::move(name), field, std::move(help)});
  return keys_.back();
}

const ConfigKey* KeyTable::find(const std::string& name) const {
  for (const auto& k : keys_)
    if (k.name == name) return &k;
  return nullptr;
}

std::string format_value(const FieldRef& field) {
  return std::visit(
      Overload{[](bool* p) { return std::string(*p ? "true" : "false"); }, [](std::string* p) { return *p; },
               [](std::vector<std::string>* p) {
                 std::string s;
                 for (const auto& w : *p) s += (s.empty() ? "" : " ") + w;
                 return s;
               },
               [](auto* p) { return fmt::format("{}", *p); }},
      field);
}

std::string type_name(const FieldRef& field) {
  return std::visit(
      Overload{[](bool*) { return "true/false"; }, [](int*) { return "integer"; }, [](int64_t*) { return "integer"; },
               [](uint64_t*) { return "non-negative integer"; }, [](double*) { return "number"; },
               [](std::string*) { return "text"; }, [](std::vector<std::string>*) { return "space-separated list"; }},
      field);
}

std::string help_text(const ConfigKey& key) {
  if (key.min && key.max) return fmt::format("{} [{} .. {}]", key.help, *key.min, *key.max);
  if (key.min) return fmt::format("{} [>= {}]", key.help, *key.min);
  return key.help;
}

void set_value(const ConfigKey& key, const std::string& text, const std::string& where) {
  const bool ok = std::visit(
      Overload{[&](bool* p) { return parse_bool(text, *p); },
               [&](int* p) {
                 long long v = 0;
                 if (!parse_integer(text, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), v))
                   return false;
                 *p = static_cast<int>(v);
                 return true;
               },
               [&](int64_t* p) {
                 long long v = 0;
                 if (!parse_integer(text, std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max(),
                                    v))
                   return false;
                 *p = v;
                 return true;
               },
               [&](uint64_t* p) {
                 long long v = 0;
                 if (!parse_integer(text, 0, std::numeric_limits<long long>::max(), v)) return false;
                 *p = static_cast<uint64_t>(v);
                 return true;
               },
               [&](double* p) { return parse_double(text, *p); }, [&](std::string* p) { return *p = text, true; },
               [&](std::vector<std::string>* p) { return *p = split_words(text), true; }},
      key.field);
  if (!ok)
    fail("'" + text + "' is not a valid value of " + key.name, where + ": " + key.name,
         "give a " + type_name(key.field) + " (" + key.help + ")");
  check_range(key, where);
}

void set_key(const KeyTable& table, const std::string& name, const std::string& text, const std::string& where,
             const std::string& hint) {
  const auto* key = table.find(name);
  if (!key) fail("unknown key '" + name + "'", where, hint);
  set_value(*key, text, where);
}

void check_ranges(const KeyTable& table, const std::string& where) {
  for (const auto& key : table.keys()) check_range(key, where);
}

std::string to_ini(const KeyTable& table) { return ini_text(table, false); }

std::string identity_text(const KeyTable& table) { return ini_text(table, true); }

}  // namespace dnas::core
