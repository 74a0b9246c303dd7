#include "dnas/cli/options.h"

#include "dnas/train/train_keys.h"
#include "settings_parser.h"

namespace dnas::cli {

train::TrainConfig read_train_settings(const std::vector<std::string>& args) {
  train::TrainConfig config;
  read_run_settings(config, args, train::train_keys, "train");
  return config;
}

TrainCommand parse_train_command(const std::vector<std::string>& args) {
  TrainCommand cmd;
  cmd.help = read_run_settings(cmd.config, args, train::train_keys, "train").help;
  if (!cmd.help) train::validate(cmd.config);
  return cmd;
}

std::string train_help() {
  train::TrainConfig defaults;
  return settings_help("usage: dnas train --config FILE.ini [--section.key=value ...] [--resume]",
                       train::train_keys(defaults));
}

}  // namespace dnas::cli
