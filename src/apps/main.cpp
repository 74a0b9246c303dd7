// The dnas executable: parses the command, runs it, turns errors into exit codes.
#include <iostream>
#include <string>
#include <vector>

#include "dnas/cli/commands.h"
#include "dnas/comm/mpi_world.h"
#include "dnas/core/allocator.h"
#include "dnas/core/blas_threads.h"
#include "dnas/core/error.h"
#include "dnas/core/signals.h"

int main(int argc, char** argv) {
  dnas::core::keep_freed_memory();  // before the first large allocation
  dnas::core::single_threaded_pthread_blas();
  std::vector<std::string> args(argv + 1, argv + argc);
  dnas::core::install_stop_handlers();
  // An error on one rank of several ends the whole job at once (the others may be waiting for
  // this one in a collective); a stop request is agreed by every rank and ends each normally.
  try {
    return dnas::cli::run_command(args);
  } catch (const dnas::core::Interrupted& e) {
    std::cerr << "dnas: " << e.what() << "; continue with --resume (exit " << dnas::core::kExitInterrupted << ")\n";
    return dnas::core::kExitInterrupted;
  } catch (const dnas::Error& e) {
    dnas::comm::abort_job_if_multi_rank(e.what(), 2);
    std::cerr << "dnas: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    dnas::comm::abort_job_if_multi_rank(std::string("internal error: ") + e.what(), 1);
    std::cerr << "dnas: internal error: " << e.what() << "\n";
    return 1;
  }
}
