#pragma once
// Subcommands of the `dnas` executable.
#include <string>
#include <vector>

namespace dnas::cli {

// Dispatches `dnas <command> [args]`; returns the process exit code. Throws dnas::Error on
// bad input (the app's main turns it into a message and exit code 2).
int run_command(const std::vector<std::string>& argv);

std::string usage();

}  // namespace dnas::cli
