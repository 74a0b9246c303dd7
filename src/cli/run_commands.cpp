#include <filesystem>
#include <iostream>

#include "dnas/cli/options.h"
#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"
#include "dnas/core/log.h"
#include "dnas/core/text_file.h"
#include "dnas/search/search_loop.h"
#include "dnas/train/trainer.h"
#include "subcommands.h"

namespace dnas::cli {
namespace {

// Keeps the resolved settings next to the results (rerun with --config OUT/config.ini).
// Written after the search, through a temp file, so an earlier run's files stay consistent.
void write_resolved_config(const std::string& out_dir, const std::string& ini) {
  core::write_text_atomically((std::filesystem::path(out_dir) / "config.ini").string(), ini);
}

// Under mpirun/srun with several ranks, every rank joins one data-parallel group.
std::shared_ptr<comm::ProcessGroup> world_group() {
  auto& world = comm::MpiWorld::get();
  core::init_logging(world.rank());
  return comm::split_world(world.size());
}

}  // namespace

int search_command(const std::vector<std::string>& args) {
  auto cmd = parse_search_command(args);
  if (cmd.help) {
    std::cout << search_help();
    return 0;
  }
  auto group = world_group();
  const std::string ini = to_ini(cmd.config);
  cmd.config.run.config_text = ini;
  spdlog::info("dnas search, resolved config:\n{}", ini);
  auto result = search::run_search(cmd.config, group);
  if (!group->leader()) return 0;
  write_resolved_config(cmd.config.run.out_dir, ini);
  std::cout << "\n" << search::format_results_table(result);
  return 0;
}

int train_command(const std::vector<std::string>& args) {
  auto cmd = parse_train_command(args);
  if (cmd.help) {
    std::cout << train_help();
    return 0;
  }
  auto group = world_group();
  const std::string ini = to_ini(cmd.config);
  cmd.config.run.config_text = ini;
  spdlog::info("dnas train, resolved config:\n{}", ini);
  auto result = train::run_training(cmd.config, group);
  if (!group->leader()) return 0;
  write_resolved_config(cmd.config.run.out_dir, ini);
  std::cout << "\n" << train::format_train_table(result);
  return 0;
}

}  // namespace dnas::cli
