#include <filesystem>
#include <iostream>

#include "dnas/cli/options.h"
#include "dnas/comm/mpi_world.h"
#include "dnas/comm/process_group.h"
#include "dnas/core/log.h"
#include "dnas/core/text_file.h"
#include "dnas/search/search_keys.h"
#include "dnas/search/search_loop.h"
#include "dnas/train/train_keys.h"
#include "dnas/train/trainer.h"
#include "subcommands.h"

namespace dnas::cli {
namespace {

// Under mpirun/srun with several ranks, every rank joins one data-parallel group.
std::shared_ptr<comm::ProcessGroup> world_group() {
  comm::check_slurm_wiring();  // before MPI starts
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
  const std::string ini = search::config_text(cmd.config);
  cmd.config.run.config_text = ini;
  cmd.config.run.write_config_file = true;  // OUT/config.ini from the start: `--config OUT/config.ini --resume`
  spdlog::info("dnas search, resolved config:\n{}", ini);
  auto result = search::run_search(cmd.config, group);
  if (!group->leader()) return 0;
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
  const std::string ini = train::config_text(cmd.config);
  cmd.config.run.config_text = ini;
  cmd.config.run.write_config_file = true;
  spdlog::info("dnas train, resolved config:\n{}", ini);
  auto result = train::run_training(cmd.config, group);
  if (!group->leader()) return 0;
  std::cout << "\n" << train::format_train_table(result);
  return 0;
}

}  // namespace dnas::cli
