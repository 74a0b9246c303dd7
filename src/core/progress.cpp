#include "dnas/core/progress.h"

#include <unistd.h>

#include <cstdio>

#include "dnas/core/log.h"

namespace dnas::core {
namespace {

std::function<void()>& step_hook() {
  static std::function<void()> hook;
  return hook;
}

}  // namespace

void Progress::set_step_hook(std::function<void()> hook) { step_hook() = std::move(hook); }

Progress::Progress(std::string label, int64_t total, double period_s, bool enabled)
    : label_(std::move(label)),
      total_(total),
      period_s_(period_s),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Progress::~Progress() { finish(); }

std::string Progress::format_duration(double s) {
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

std::string Progress::line(int64_t done, const std::string& fields) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed / done * (total_ - done) : 0.0;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s step %lld/%lld", label_.c_str(), (long long)done, (long long)total_);
  return std::string(buf) + " " + fields + " | " + format_duration(elapsed) + " elapsed, ETA " + format_duration(eta);
}

void Progress::update(int64_t done, const std::string& fields) {
  if (step_hook()) step_hook()();
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    const int width = 24;
    const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
    std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    std::fprintf(stderr, "\r\033[K%s%s", bar.c_str(), line(done, fields).c_str());
    std::fflush(stderr);
    drew_ = true;
  } else if (std::chrono::duration<double>(now - last_print_).count() >= period_s_ || done == total_) {
    spdlog::info("{}", line(done, fields));
    last_print_ = now;
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_ && tty_ && drew_) std::fprintf(stderr, "\n");
}

}  // namespace dnas::core
