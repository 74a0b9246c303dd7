#pragma once
// One table per config struct: every key (section.key) with the field it sets, its help text, an
// optional numeric range and whether it changes results. The command-line options and --help (cli),
// the INI text written beside every run, the study grid (sweep) and a config's identity are all
// derived from the table, so a key is spelled once.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dnas::core {

using FieldRef = std::variant<bool*, int*, int64_t*, uint64_t*, double*, std::string*, std::vector<std::string>*>;

struct ConfigKey {
  std::string name;  // "section.key"
  FieldRef field;
  std::string help;
  bool changes_results = true;     // false: threads, output paths, logging, test stops
  std::optional<double> min, max;  // inclusive bounds of a numeric key

  ConfigKey& run_only() {
    changes_results = false;
    return *this;
  }
  ConfigKey& at_least(double lo) {
    min = lo;
    return *this;
  }
  ConfigKey& within(double lo, double hi) {
    min = lo;
    max = hi;
    return *this;
  }
};

class KeyTable {
 public:
  ConfigKey& add(std::string name, FieldRef field, std::string help);
  const std::vector<ConfigKey>& keys() const { return keys_; }
  const ConfigKey* find(const std::string& name) const;

 private:
  std::vector<ConfigKey> keys_;
};

// The field's value as text: shortest decimal that reads back to the same double, true/false,
// space-separated lists.
std::string format_value(const FieldRef& field);
// "double", "integer", "true/false", ...
std::string type_name(const FieldRef& field);
// The key's help with its bounds: "batch size [>= 1]".
std::string help_text(const ConfigKey& key);

// Parses `text` into the key's field and checks its range; errors name `where` and the key.
void set_value(const ConfigKey& key, const std::string& text, const std::string& where);
// Sets the named key; an unknown name is an error naming `where` with `hint`.
void set_key(const KeyTable& table, const std::string& name, const std::string& text, const std::string& where,
             const std::string& hint);

// Every real value finite and inside its key's bounds; errors name `where` and the key.
void check_ranges(const KeyTable& table, const std::string& where);

// "[section]\nkey = value\n..." for every key, in table order (reads back exactly).
std::string to_ini(const KeyTable& table);
// The same for the keys that change results only: equal texts, equal results.
std::string identity_text(const KeyTable& table);

}  // namespace dnas::core
