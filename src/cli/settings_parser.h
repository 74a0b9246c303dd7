#pragma once
// Shared by the subcommands that take settings: `--config FILE.ini` plus `--section.key=value`
// overrides (the command line wins), `--help` and `--resume`. Unknown keys are errors naming
// the key and the file.
#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace dnas::cli {

struct SettingsFlags {
  bool help = false;
  bool resume = false;
  bool overwrite = false;
};

// Stores into the variables bound by `keys`; `command` names the subcommand in hints.
SettingsFlags parse_settings(const std::vector<std::string>& args, const boost::program_options::options_description& keys,
                             const std::string& command);

// A key bound to `v` whose default is v's current value.
template <typename T>
boost::program_options::typed_value<T>* with_default(T* v) {
  return boost::program_options::value(v)->default_value(*v);
}

// "a,b,,c" -> {"a", "b", "c"}
std::vector<std::string> split_list(const std::string& s);

// Usage text: the command flags, then every key with its default.
std::string settings_help(const std::string& usage_line, const boost::program_options::options_description& keys);

}  // namespace dnas::cli
