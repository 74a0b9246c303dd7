#include "settings_parser.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dnas/core/error.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

po::options_description command_flags(std::string& config_file) {
  po::options_description d("Command");
  d.add_options()("help,h", "list every key with its default")(
      "config,c", po::value(&config_file), "INI file with the settings")(
      "resume", "continue the run in run.out_dir from its checkpoint.h5")(
      "overwrite", "start afresh in a run.out_dir that holds an earlier run (its files are replaced)");
  return d;
}

// Every real-valued key must be finite (inf passes the range checks that NaN fails, `lr > 0`,
// and would only surface as a non-finite loss much later), and no unsigned key may hold a
// negative number wrapped around (`seed=-1`).
void reject_out_of_range(const po::variables_map& vm, const std::string& config_file) {
  for (const auto& [key, value] : vm) {
    double v = 0.0;
    if (const auto* d = boost::any_cast<double>(&value.value())) v = *d;
    else if (const auto* f = boost::any_cast<float>(&value.value())) v = *f;
    else if (const auto* u = boost::any_cast<uint64_t>(&value.value())) {
      if (*u > static_cast<uint64_t>(INT64_MAX))
        fail(key + " = " + std::to_string(*u) + " is out of range (a negative number wrapped around?)", key,
             "give a value between 0 and 2^63 - 1");
      continue;
    } else continue;
    if (!std::isfinite(v))
      fail(key + " = " + std::to_string(v) + " is not a finite number",
           config_file.empty() ? key : key + " (command line or " + config_file + ")", "give a finite value");
  }
}

}  // namespace

SettingsFlags parse_settings(const std::vector<std::string>& args, const po::options_description& keys,
                             const std::string& command) {
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
  reject_out_of_range(vm, config_file);
  return out;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string settings_help(const std::string& usage_line, const po::options_description& keys) {
  std::string file;
  std::ostringstream out;
  out << usage_line << "\n\n" << command_flags(file) << "\n" << keys;
  return out.str();
}

}  // namespace dnas::cli
