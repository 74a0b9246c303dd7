#include "dnas/cli/commands.h"

#include <iostream>

#include "dnas/core/build_info.h"
#include "dnas/core/error.h"
#include "subcommands.h"

namespace dnas::cli {

std::string usage() {
  return "usage: dnas <command> [options]\n\n"
         "commands:\n"
         "  search   run an architecture search                 (dnas search --help)\n"
         "  train    retrain a genotype from scratch and test it (dnas train --help)\n"
         "  inspect  size, multiply-adds and cells of a genotype (dnas inspect --help)\n"
         "  sweep    run a study: a grid of search+retrain experiments (dnas sweep --help)\n"
         "  report   aggregate a study into a comparison table  (dnas report --help)\n"
         "  bench    time search and retrain steps              (dnas bench --help)\n"
         "  rnn      recurrent-cell search/retrain on a text corpus (dnas rnn --help)\n"
         "  pack     pack an image folder into tar shards        (dnas pack --help)\n"
         "  version  print the version\n";
}

int run_command(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "help" || argv[0] == "--help" || argv[0] == "-h") {
    std::cout << usage();
    return argv.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "search") return search_command(rest);
  if (argv[0] == "train") return train_command(rest);
  if (argv[0] == "inspect") return inspect_command(rest);
  if (argv[0] == "sweep") return sweep_command(rest);
  if (argv[0] == "report") return report_command(rest);
  if (argv[0] == "bench") return bench_command(rest);
  if (argv[0] == "rnn") return rnn_command(rest);
  if (argv[0] == "pack") return pack_command(rest);
  if (argv[0] == "version" || argv[0] == "--version") {
    std::cout << "dnas " << core::version() << " (" << core::git_revision() << ")\n";
    return 0;
  }
  fail("unknown command '" + argv[0] + "'", "command line", "run `dnas --help` for the commands");
}

}  // namespace dnas::cli
