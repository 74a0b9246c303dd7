#include <boost/program_options.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"
#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/core/progress.h"
#include "dnas/sweep/report.h"
#include "dnas/sweep/study.h"
#include "study_options.h"
#include "settings_parser.h"
#include "subcommands.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

std::string report_table(const std::string& dir, const std::string& title, const std::string& format,
                         const std::vector<std::string>& by) {
  auto rows = sweep::aggregate(sweep::load_experiments(dir), by);
  sweep::write_report((std::filesystem::path(dir) / "summary.h5").string(), rows, title);
  return sweep::format_report(rows, title, format);
}

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
  auto cmd = parse_study_command(args);
  if (cmd.help) {
    std::cout << study_help();
    return 0;
  }
  if (cmd.list) {
    for (size_t i = 0; i < cmd.experiments.size(); ++i) std::cout << i << " " << cmd.experiments[i].id << "\n";
    std::cout << cmd.experiments.size() << " experiments into " << cmd.study.out_dir << "\n";
    return 0;
  }
  auto& world = comm::MpiWorld::get();
  core::init_logging(world.rank());
  auto group = comm::split_world(static_cast<int>(cmd.study.ranks_per_experiment));
  spdlog::info("sweep: study '{}' with {} experiments into {}, {} ranks in groups of {} (backends: {})",
               cmd.study.name, cmd.experiments.size(), cmd.study.out_dir, world.size(), group->size(),
               comm::available_backends());
  sweep::SingleQueue one(cmd.only);
  comm::SharedCounter counter;
  sweep::SharedQueue shared(counter, static_cast<int>(cmd.experiments.size()));
  sweep::GroupQueue queue(cmd.only >= 0 ? static_cast<sweep::WorkQueue&>(one) : shared, *group);
  auto mine = sweep::run_study(cmd.study, cmd.experiments, queue, group);
  // Totals over ranks; rank 0 prints the table once everyone is done.
  sweep::StudySummary s;
  s.finished = static_cast<int>(world.sum(mine.finished));
  s.failed = static_cast<int>(world.sum(mine.failed));
  s.skipped = static_cast<int>(world.sum(mine.skipped));
  s.busy_seconds = world.sum(mine.busy_seconds);
  s.wall_seconds = world.max(mine.wall_seconds);
  s.workers = world.size();
  if (world.rank() == 0) {
    spdlog::info("sweep: {} finished, {} failed, {} skipped in {}; schedule efficiency {:.0f}% (busy / wall x ranks)",
                 s.finished, s.failed, s.skipped, core::Progress::format_duration(s.wall_seconds), 100 * s.efficiency());
    std::cout << "\n" << report_table(cmd.study.out_dir, cmd.study.name, "md", {});
  }
  return s.failed ? 1 : 0;
}

int report_command(const std::vector<std::string>& args) {
  std::string dir, title = "results", format = "md", by;
  po::options_description d("dnas report: aggregate a study's experiment files into a comparison table");
  d.add_options()("help,h", "this help")
      ("dir", po::value(&dir), "the study's out_dir")
      ("table", po::value(&title)->default_value(title), "table title")
      ("format", po::value(&format)->default_value(format), "md | csv | tex")
      ("by", po::value(&by)->default_value(""), "grid keys that split rows, comma separated (default: method plus every non-seed grid key that varies)");
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad report option: ") + e.what(), "command line", "see `dnas report --help`");
  }
  if (vm.count("help") || dir.empty()) {
    std::cout << "usage: dnas report DIR [--table NAME] [--format md|csv|tex] [--by KEYS]\n\n" << d;
    return vm.count("help") ? 0 : 2;
  }
  std::cout << report_table(dir, title, format, split_list(by));
  return 0;
}

}  // namespace dnas::cli
