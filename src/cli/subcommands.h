#pragma once
// The subcommands behind run_command; each takes the arguments after its name and returns
// the process exit code.
#include <string>
#include <vector>

namespace dnas::cli {

int search_command(const std::vector<std::string>& args);
int train_command(const std::vector<std::string>& args);
int bench_command(const std::vector<std::string>& args);
int inspect_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int rnn_command(const std::vector<std::string>& args);
int pack_command(const std::vector<std::string>& args);

}  // namespace dnas::cli
