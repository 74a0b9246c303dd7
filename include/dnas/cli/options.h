#pragma once
// Command-line and INI parsing (Boost.Program_options) into config structs. An INI section
// [data] with `batch_size = 32` is the key data.batch_size; `--data.batch_size=32` on the
// command line overrides the file. Unknown keys and bad values are errors naming the key.
#include <string>
#include <vector>

#include "dnas/search/search_config.h"

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

}  // namespace dnas::cli
