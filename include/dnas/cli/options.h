#pragma once
// Command-line and INI parsing (Boost.Program_options) into config structs. An INI section
// [data] with `batch_size = 32` is the key data.batch_size; `--data.batch_size=32` on the
// command line overrides the file. Unknown keys and bad values are errors naming the key.
#include <string>
#include <vector>

#include "dnas/search/search_config.h"
#include "dnas/train/train_config.h"

namespace dnas::cli {

struct SearchCommand {
  search::SearchConfig config;
  bool help = false;
};

// args: the arguments after the subcommand name.
SearchCommand parse_search_command(const std::vector<std::string>& args);
// The settings as given (--help ignored), not yet validated: a study applies its grid values first.
search::SearchConfig read_search_settings(const std::vector<std::string>& args);

// Every key with its default and description.
std::string search_help();

struct TrainCommand {
  train::TrainConfig config;
  bool help = false;
};

TrainCommand parse_train_command(const std::vector<std::string>& args);
train::TrainConfig read_train_settings(const std::vector<std::string>& args);
std::string train_help();

}  // namespace dnas::cli
