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

// Every key with its default and description.
std::string search_help();

// Config as INI text (every key, resolved values), for logs and provenance.
std::string to_ini(const search::SearchConfig& config);

struct TrainCommand {
  train::TrainConfig config;
  bool help = false;
};

TrainCommand parse_train_command(const std::vector<std::string>& args);
std::string train_help();
std::string to_ini(const train::TrainConfig& config);

}  // namespace dnas::cli
