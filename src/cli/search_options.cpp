#include "dnas/cli/options.h"

#include "dnas/search/search_keys.h"
#include "settings_parser.h"

namespace dnas::cli {

search::SearchConfig read_search_settings(const std::vector<std::string>& args) {
  search::SearchConfig config;
  read_run_settings(config, args, search::search_keys, "search");
  return config;
}

SearchCommand parse_search_command(const std::vector<std::string>& args) {
  SearchCommand cmd;
  cmd.help = read_run_settings(cmd.config, args, search::search_keys, "search").help;
  if (!cmd.help) search::validate(cmd.config);
  return cmd;
}

std::string search_help() {
  search::SearchConfig defaults;
  return settings_help("usage: dnas search --config FILE.ini [--section.key=value ...] [--resume]",
                       search::search_keys(defaults));
}

}  // namespace dnas::cli
