#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"
#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/core/progress.h"
#include "dnas/core/run_dir.h"
#include "dnas/core/signals.h"
#include "dnas/sweep/experiment_record.h"
#include "dnas/sweep/report.h"
#include "dnas/sweep/study.h"
#include "dnas/sweep/study_files.h"
#include "settings_parser.h"
#include "study_options.h"
#include "subcommands.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

// Experiments of the study's current grid only (its experiments.txt); files of other grid
// points, e.g. of values since removed, are left out and named.
std::string report_table(const std::string& dir, const std::string& title, const std::string& format,
                         const std::vector<std::string>& by, std::string baseline = "") {
  std::vector<std::string> left_out;
  const auto manifest = sweep::read_manifest(dir);
  if (baseline.empty()) baseline = manifest.baseline;
  auto experiments = sweep::load_experiments(dir, manifest.ids, &left_out);
  if (!left_out.empty())
    std::cerr << "dnas report: " << left_out.size() << " experiment file(s) in " << dir
              << " are not in the study's current grid (experiments.txt) and were left out:\n  "
              << fmt::format("{}", fmt::join(left_out, "\n  ")) << "\n";
  auto rows = sweep::aggregate(experiments, by, baseline);
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
  comm::check_slurm_wiring();  // before MPI starts
  auto& world = comm::MpiWorld::get();
  auto group = comm::split_world(static_cast<int>(cmd.study.ranks_per_experiment));
  core::init_logging(world.rank(), false, group->leader());  // every group's leader logs its experiments
  if (world.rank() == 0)
    spdlog::info("sweep: study '{}' with {} experiments into {}, {} ranks in groups of {} (backends: {})",
                 cmd.study.name, cmd.experiments.size(), cmd.study.out_dir, world.size(), group->size(),
                 comm::available_backends());
  // Rank 0 holds the study's directory for the whole sweep (job-array tasks, one experiment each,
  // share it), brings files of earlier versions to their current names, refuses finished records
  // made with other settings, and lists the current experiments for `dnas report`.
  std::optional<core::RunDirLock> study_lock;
  std::vector<sweep::Experiment> mine;  // the experiments this sweep runs
  if (cmd.only >= 0)
    mine.push_back(cmd.experiments[static_cast<size_t>(cmd.only)]);
  else
    mine = cmd.experiments;
  int finished_before = 0;
  if (world.rank() == 0) {
    if (cmd.only < 0) study_lock.emplace(cmd.study.out_dir, "dnas sweep");
    std::filesystem::create_directories(cmd.study.out_dir);
    sweep::adopt_indexed_names(cmd.study.out_dir, cmd.experiments);
    sweep::check_finished_records(cmd.study.out_dir, mine);
    sweep::retry_failed_phases(cmd.study.out_dir, mine);
    finished_before = sweep::count_records(cmd.study.out_dir, mine).first;
    if (cmd.only < 0) sweep::write_manifest(cmd.study.out_dir, cmd.experiments, cmd.study.baseline);
  }
  world.barrier();
  const auto items = sweep::plan_work_items(cmd.experiments);
  std::vector<int> only_items;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].experiment == cmd.only) only_items.push_back(static_cast<int>(i));
  sweep::ListQueue one(only_items);
  comm::SharedCounter counter((std::filesystem::path(cmd.study.out_dir) / ".experiment_counter").string());
  sweep::SharedQueue shared(counter, static_cast<int>(items.size()));
  sweep::GroupQueue queue(cmd.only >= 0 ? static_cast<sweep::WorkQueue&>(one) : shared, *group);
  // Every rank leaves the loop through the same end-game collectives, whether its queue ran dry
  // or a stop request interrupted its work item; an error escaping it ends the job at once.
  if (world.rank() == 0) core::Progress::set_step_hook([&counter] { counter.poke_progress(); });
  sweep::StudySummary own;
  bool interrupted = false;
  try {
    own = sweep::run_study(cmd.study, cmd.experiments, queue, group);
  } catch (const core::Interrupted&) {
    interrupted = true;
  } catch (const std::exception& e) {
    core::Progress::set_step_hook({});
    comm::abort_job_if_multi_rank(e.what(), 2);
    throw;
  }
  core::Progress::set_step_hook({});
  if (world.sum(interrupted ? 1.0 : 0.0) > 0) {
    if (world.rank() == 0)
      std::cerr << "dnas: sweep stopped on request; run the same command again to resume (exit "
                << core::kExitInterrupted << ")\n";
    return core::kExitInterrupted;
  }
  // Counts from the records once everyone is done; time summed over ranks.
  sweep::StudySummary s;
  s.busy_seconds = world.sum(own.busy_seconds);
  s.wall_seconds = world.max(own.wall_seconds);
  s.workers = world.size();
  if (world.rank() == 0) {
    const auto [finished, failed] = sweep::count_records(cmd.study.out_dir, mine);
    s.skipped = finished_before;
    s.finished = finished - finished_before;
    s.failed = failed;
  }
  s.failed = static_cast<int>(world.sum(s.failed));
  if (world.rank() == 0) {
    spdlog::info("sweep: {} finished, {} failed, {} skipped in {}; schedule efficiency {:.0f}% (busy / wall x ranks)",
                 s.finished, s.failed, s.skipped, core::Progress::format_duration(s.wall_seconds),
                 100 * s.efficiency());
    std::cout << "\n" << report_table(cmd.study.out_dir, cmd.study.name, "md", {}, cmd.study.baseline);
  }
  return s.failed ? 1 : 0;
}

int report_command(const std::vector<std::string>& args) {
  std::string dir, title = "results", format = "md", by, baseline;
  po::options_description d("dnas report: aggregate a study's experiment files into a comparison table");
  d.add_options()("help,h", "this help")("dir", po::value(&dir), "the study's out_dir")(
      "table", po::value(&title)->default_value(title), "table title")(
      "format", po::value(&format)->default_value(format), "md | csv | tex")(
      "by", po::value(&by)->default_value(""),
      "grid keys that split rows, comma separated (default: method plus every non-seed grid key that varies)")(
      "baseline", po::value(&baseline)->default_value(""),
      "the row (a method or a row name) every row is tested against (default: the study's study.baseline)");
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
    std::cout << "usage: dnas report DIR [--table NAME] [--format md|csv|tex] [--by KEYS] [--baseline ROW]\n\n" << d;
    return vm.count("help") ? 0 : 2;
  }
  std::cout << report_table(dir, title, format, split_list(by), baseline);
  return 0;
}

}  // namespace dnas::cli
