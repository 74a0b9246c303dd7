#include "dnas/cli/commands.h"

#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "dnas/cli/options.h"
#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/search/bench.h"
#include "dnas/search/search_loop.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

// Keeps the resolved settings next to the results (rerun with --config OUT/config.ini).
// Written after the search, through a temp file, so an earlier run's files stay consistent.
void write_resolved_config(const std::string& out_dir, const std::string& ini) {
  const auto path = std::filesystem::path(out_dir) / "config.ini";
  const auto tmp = std::filesystem::path(out_dir) / "config.ini.tmp";
  {
    std::ofstream out(tmp);
    out << ini;
    if (!out) fail("cannot write the resolved config", tmp.string(), "check run.out_dir");
  }
  std::filesystem::rename(tmp, path);
}

int search_command(const std::vector<std::string>& args) {
  auto cmd = parse_search_command(args);
  if (cmd.help) {
    std::cout << search_help();
    return 0;
  }
  core::init_logging(0);
  const std::string ini = to_ini(cmd.config);
  spdlog::info("dnas search, resolved config:\n{}", ini);
  auto result = search::run_search(cmd.config);
  write_resolved_config(cmd.config.run.out_dir, ini);
  std::cout << "\n" << search::format_results_table(result);
  return 0;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int bench_command(const std::vector<std::string>& args) {
  search::BenchOptions o;
  std::string shapes = "small,paper", modes = "weight,darts_1st,darts_2nd";
  po::options_description d("dnas bench: search-step time and peak memory on synthetic data");
  d.add_options()("help,h", "this help")
      ("shapes", po::value(&shapes)->default_value(shapes), "comma list of tiny, small, paper")
      ("modes", po::value(&modes)->default_value(modes), "comma list of weight (w step only) and search methods (one iteration)")
      ("steps", po::value(&o.steps)->default_value(o.steps), "timed steps per case (after 1 warm-up)")
      ("threads", po::value(&o.threads)->default_value(o.threads), "intra-op threads (0 = all cores)")
      ("op_set", po::value(&o.op_set)->default_value(o.op_set), "candidate op set")
      ("seed", po::value(&o.seed)->default_value(o.seed), "seed");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad bench option: ") + e.what(), "command line", "see `dnas bench --help`");
  }
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  o.shapes = split_list(shapes);
  o.modes = split_list(modes);
  if (o.steps < 1) fail("--steps must be >= 1", "bench --steps", "");
  const int threads = o.threads > 0 ? static_cast<int>(o.threads) : 0;
  std::cout << "dnas bench (" << (threads ? std::to_string(threads) : std::string("all")) << " threads)\n";
  auto rows = search::run_bench(o);
  std::cout << "\n" << search::format_bench_table(rows, threads);
  return 0;
}

}  // namespace

std::string usage() {
  return "usage: dnas <command> [options]\n\n"
         "commands:\n"
         "  search   run an architecture search   (dnas search --help)\n"
         "  bench    time search steps            (dnas bench --help)\n"
         "  version  print the version\n";
}

int run_command(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "help" || argv[0] == "--help" || argv[0] == "-h") {
    std::cout << usage();
    return argv.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "search") return search_command(rest);
  if (argv[0] == "bench") return bench_command(rest);
  if (argv[0] == "version" || argv[0] == "--version") {
    std::cout << "dnas 0.1.0\n";
    return 0;
  }
  fail("unknown command '" + argv[0] + "'", "command line", "run `dnas --help` for the commands");
}

}  // namespace dnas::cli
