#include "dnas/core/signals.h"

#include <csignal>

namespace dnas::core {
namespace {

volatile std::sig_atomic_t g_stop = 0;

// A second Ctrl-C while the first is still being honoured ends the process at once.
extern "C" void on_stop_signal(int sig) {
  if (sig == SIGINT && g_stop != 0) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  g_stop = 1;
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGUSR1, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
}

bool stop_requested() { return g_stop != 0; }
void request_stop() { g_stop = 1; }
void clear_stop_request() { g_stop = 0; }

}  // namespace dnas::core
