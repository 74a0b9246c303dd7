#pragma once
// `dnas bench --profile`: a case's steps under the autograd profiler, written as a
// chrome://tracing file and summarised as the ops that took the most self time.
#include <torch/csrc/autograd/profiler_legacy.h>

#include <cstdint>
#include <map>
#include <string>

namespace dnas::bench {

struct OpSelfTime {
  double self_us = 0;  // time inside the op's ranges minus the ranges nested in them
  int64_t calls = 0;
};

// Self time per op name over every thread's push/pop ranges.
std::map<std::string, OpSelfTime> op_self_times(const torch::autograd::profiler::thread_event_lists& lists);

// Starts the profiler on this thread (the ops of the threads it starts are recorded too).
void start_profile();

// Stops the profiler; writes `prefix`.json (trace) and `prefix`.txt (the summary) and returns
// the summary: the top `rows` op names by self time (time inside the op minus the ops it
// called), with calls and share of all profiled self time.
std::string finish_profile(const std::string& prefix, int rows = 20);

}  // namespace dnas::bench
