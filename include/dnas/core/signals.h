#pragma once
// Cooperative stop requests: SIGTERM, SIGUSR1 (Slurm's warning before the time limit) and a
// first SIGINT (Ctrl-C; a second one ends the process) only set a flag; long loops poll it at step boundaries,
// checkpoint and exit with kExitInterrupted so the job script can requeue.
namespace dnas::core {

constexpr int kExitInterrupted = 75;  // EX_TEMPFAIL: "try again later" (requeue)

void install_stop_handlers();  // SIGTERM, SIGUSR1, SIGINT -> request_stop()
bool stop_requested();
void request_stop();  // also callable from code (tests, run.stop_after_steps)
void clear_stop_request();

// Thrown by a loop that checkpointed because a stop was requested.
struct Interrupted {
  const char* what() const { return "stopped on request; the checkpoint holds the progress"; }
};

}  // namespace dnas::core
