#pragma once
// Progress of long work: a live bar (step, fields, ETA) when stderr is a terminal, and a
// plain line every `period_s` seconds when it is not, so batch logs stay readable.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace dnas::core {

class Progress {
 public:
  // label: e.g. "epoch 3/50"; total: number of steps; enabled=false makes it silent.
  Progress(std::string label, int64_t total, double period_s = 10.0, bool enabled = true);
  ~Progress();
  // Reports that `done` of `total` steps are finished; fields: e.g. "loss 0.52 acc 81.2%".
  void update(int64_t done, const std::string& fields);
  void finish();  // ends the bar line (terminal) — called by the destructor too

  static std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

  // A function run at every update (every step of a training loop), enabled or not: the sweep
  // lets MPI serve other ranks' experiment draws from rank 0 there. Empty: none.
  static void set_step_hook(std::function<void()> hook);

 private:
  std::string line(int64_t done, const std::string& fields) const;
  std::string label_;
  int64_t total_;
  double period_s_;
  bool enabled_, tty_, finished_ = false, drew_ = false;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace dnas::core
