#include "study_options.h"

#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "dnas/cli/options.h"
#include "dnas/core/error.h"
#include "dnas/sweep/study_plan.h"
#include "settings_parser.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

po::options_description study_options(const core::KeyTable& keys) {
  po::options_description d("Study settings ([study] section; grid keys in [grid])");
  d.add(options_of(keys));
  return d;
}

// The study file's [study] keys (into plan.settings) and [grid] lines; command-line overrides win.
void read_study_file(const std::string& path, const core::KeyTable& keys, po::variables_map& vm,
                     sweep::StudyPlan& plan) {
  std::ifstream in(path);
  if (!in || std::filesystem::is_directory(path))
    fail("cannot open study file (or it is a directory)", path, "check the path given to --config");
  const auto options = study_options(keys);  // the parsed options point into it
  try {
    auto parsed = po::parse_config_file(in, options, /*allow_unregistered=*/true);
    for (const auto& opt : parsed.options) {
      if (!opt.unregistered) continue;
      if (opt.string_key.rfind("grid.", 0) != 0)
        fail("unknown key '" + opt.string_key + "'", path,
             "study files have a [study] section and a [grid] section; `dnas sweep --help` lists the keys");
      plan.grid.push_back({opt.string_key.substr(5), words(opt.value.empty() ? "" : opt.value.front())});
    }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad setting: ") + e.what(), path, "`dnas sweep --help` lists the keys");
  }
  core::check_ranges(keys, path);
}

}  // namespace

StudyCommand parse_study_command(const std::vector<std::string>& args) {
  StudyCommand cmd;
  sweep::StudyPlan plan;
  const auto keys = sweep::study_keys(plan.settings);
  std::string config_file;
  po::options_description all;
  all.add_options()("help,h", "")("config,c", po::value(&config_file), "study file (.ini)")(
      "only", po::value(&cmd.only), "run only experiment INDEX (0-based; job arrays)")(
      "list", "print the experiments (index and id) and exit");
  all.add(study_options(keys));
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).run(), vm);
  } catch (const po::error& e) {
    fail(std::string("bad command-line option: ") + e.what(), "command line", "see `dnas sweep --help`");
  }
  if (vm.count("help")) {
    cmd.help = true;
    return cmd;
  }
  cmd.list = vm.count("list") > 0;
  if (!vm.count("config")) fail("no study file", "command line", "dnas sweep --config STUDY.ini");
  plan.file = vm["config"].as<std::string>();
  if (vm.count("only") && vm["only"].as<int>() < 0)
    fail("--only " + std::to_string(vm["only"].as<int>()) + " is not an experiment index", "command line",
         "indices start at 0; `dnas sweep --config FILE --list` shows them");
  read_study_file(plan.file, keys, vm, plan);
  const auto& s = plan.settings;
  if (!s.search_config.empty()) plan.search = read_search_settings({"--config", s.search_config});
  plan.train = read_train_settings(s.train_config.empty() ? std::vector<std::string>{}
                                                          : std::vector<std::string>{"--config", s.train_config});
  cmd.study = s.study;
  cmd.experiments = sweep::expand_study(plan);
  if (cmd.only >= static_cast<int>(cmd.experiments.size()))
    fail("--only " + std::to_string(cmd.only) + " is past the last experiment", plan.file,
         "the study has " + std::to_string(cmd.experiments.size()) + " experiments (0-based)");
  return cmd;
}

std::string study_help() {
  sweep::StudySettings defaults;
  std::ostringstream out;
  out << "usage: [mpirun -np N] dnas sweep --config STUDY.ini [--study.key=value ...] [--only INDEX] [--list]\n\n"
      << "[grid] keys are search-config keys (search.method, search.seed, supernet.layers, ...) with\n"
      << "space-separated values; keys prefixed retrain. (retrain.model.channels) vary the retrain.\n"
      << "A zipped key a+b = x1+y1 x2+y2 sets both keys per value (ablation rows, not a product); it\n"
      << "may mix search and retrain keys. Experiments that differ only in retrain keys share one\n"
      << "search (run once, under out_dir/searches/).\n\n"
      << study_options(sweep::study_keys(defaults));
  return out.str();
}

}  // namespace dnas::cli
