#pragma once
// Shared by the subcommands that take settings: `--config FILE.ini` plus `--section.key=value`
// overrides (the command line wins), `--help` and `--resume`. Unknown keys are errors naming
// the key and the file.
#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "dnas/core/config_keys.h"

namespace dnas::cli {

struct SettingsFlags {
  bool help = false;
  bool resume = false;
  bool overwrite = false;
};

// The table's keys as options bound to its fields, each defaulting to the field's current value.
boost::program_options::options_description options_of(const core::KeyTable& keys);

// Stores into the fields bound by `keys` and checks their ranges; `command` names the subcommand
// in hints.
SettingsFlags parse_settings(const std::vector<std::string>& args, const core::KeyTable& keys,
                             const std::string& command);

// A run's settings (search or retrain: `keys_of(config)` is its key table) plus --resume/--overwrite.
template <class Config, class KeysOf>
SettingsFlags read_run_settings(Config& config, const std::vector<std::string>& args, KeysOf keys_of,
                                const std::string& command) {
  const auto flags = parse_settings(args, keys_of(config), command);
  config.run.resume = flags.resume;
  config.run.overwrite = flags.overwrite;
  return flags;
}

// "a,b,,c" -> {"a", "b", "c"}
std::vector<std::string> split_list(const std::string& s);

// Usage text: the command flags, then every key with its default.
std::string settings_help(const std::string& usage_line, const core::KeyTable& keys);

}  // namespace dnas::cli
