#include "settings_parser.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <variant>

#include "dnas/core/error.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

po::options_description command_flags(std::string& config_file) {
  po::options_description d("Command");
  d.add_options()("help,h", "list every key with its default")("config,c", po::value(&config_file),
                                                               "INI file with the settings")(
      "resume", "continue the run in run.out_dir from its checkpoint.h5")(
      "overwrite", "start afresh in a run.out_dir that holds an earlier run (its files are replaced)");
  return d;
}

template <class T>
void add_typed(po::options_description& d, const core::ConfigKey& key, T* field) {
  d.add_options()(key.name.c_str(), po::value(field)->default_value(*field, core::format_value(field)),
                  core::help_text(key).c_str());
}

// A list is read as one space-separated string and split when the options are stored.
void add_list(po::options_description& d, const core::ConfigKey& key, std::vector<std::string>* field) {
  const auto text = core::format_value(field);
  d.add_options()(key.name.c_str(),
                  po::value<std::string>()->default_value(text)->notifier(
                      [&key](const std::string& v) { core::set_value(key, v, key.name); }),
                  core::help_text(key).c_str());
}

}  // namespace

po::options_description options_of(const core::KeyTable& table) {
  po::options_description d("Settings (INI section.key; override with --section.key=value)");
  for (const auto& key : table.keys())
    std::visit(
        [&](auto* field) {
          using T = std::remove_pointer_t<decltype(field)>;
          if constexpr (std::is_same_v<T, std::vector<std::string>>)
            add_list(d, key, field);
          else
            add_typed(d, key, field);
        },
        key.field);
  return d;
}

SettingsFlags parse_settings(const std::vector<std::string>& args, const core::KeyTable& table,
                             const std::string& command) {
  const auto keys = options_of(table);
  std::string config_file;
  auto flags = command_flags(config_file);
  po::options_description all;
  all.add(flags).add(keys);
  po::variables_map vm;
  const std::string help_hint = "`dnas " + command + " --help` lists every key";
  try {
    po::store(po::command_line_parser(args).options(all).run(), vm);
  } catch (const po::error& e) {
    fail(std::string("bad command-line option: ") + e.what(), "command line", help_hint + "; use --section.key=value");
  }
  SettingsFlags out;
  out.help = vm.count("help") > 0;
  out.resume = vm.count("resume") > 0;
  out.overwrite = vm.count("overwrite") > 0;
  if (out.resume && out.overwrite)
    fail("--resume and --overwrite exclude each other", "command line", "continue the run or replace it, not both");
  if (out.help) return out;
  if (vm.count("config")) {
    config_file = vm["config"].as<std::string>();
    std::ifstream in(config_file);
    if (!in || std::filesystem::is_directory(config_file))
      fail(std::filesystem::is_directory(config_file) ? "is a directory, not a config file" : "cannot open config file",
           config_file, "give an .ini file to --config (a run's settings are in RUN/config.ini)");
    try {
      po::store(po::parse_config_file(in, keys, /*allow_unregistered=*/false), vm);
    } catch (const po::error& e) {
      fail(std::string("bad setting: ") + e.what(), config_file, help_hint + " as [section] key = value");
    }
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad setting: ") + e.what(), config_file.empty() ? "command line" : config_file,
         help_hint + " with its type and default");
  }
  core::check_ranges(table, config_file.empty() ? "command line" : "command line or " + config_file);
  return out;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string settings_help(const std::string& usage_line, const core::KeyTable& keys) {
  std::string file;
  std::ostringstream out;
  out << usage_line << "\n\n" << command_flags(file) << "\n" << options_of(keys);
  return out.str();
}

}  // namespace dnas::cli
