#include "dnas/bench/case_profile.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "dnas/core/error.h"

namespace dnas::bench {

namespace prof = torch::autograd::profiler;

std::map<std::string, OpSelfTime> op_self_times(const prof::thread_event_lists& lists) {
  std::map<std::string, OpSelfTime> totals;
  for (const auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange) {
        // Ranges nest per thread; a pop without its push on this thread (an op finished on
        // another thread) is left out.
        const auto match =
            std::find_if(stack.rbegin(), stack.rend(), [&](const Open& o) { return o.push->handle() == e.handle(); });
        if (match == stack.rend()) continue;
        stack.erase(match.base(), stack.end());  // ranges left open inside it
        const auto open = stack.back();
        stack.pop_back();
        const double total_us = open.push->cpuElapsedUs(e);
        auto& t = totals[open.push->name()];
        t.self_us += std::max(0.0, total_us - open.children_us);
        ++t.calls;
        if (!stack.empty()) stack.back().children_us += total_us;
      }
    }
  }
  return totals;
}

namespace {

std::string format_summary(const std::map<std::string, OpSelfTime>& totals, int rows) {
  std::vector<std::pair<std::string, OpSelfTime>> sorted(totals.begin(), totals.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  double all_us = 0;
  int64_t all_calls = 0;
  for (const auto& [name, t] : sorted) all_us += t.self_us, all_calls += t.calls;
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "profiled self time %.3f s in %lld op calls; top ops:\n", all_us * 1e-6,
                static_cast<long long>(all_calls));
  out << line << "| op | calls | self s | share |\n|---|---|---|---|\n";
  for (size_t i = 0; i < sorted.size() && static_cast<int>(i) < rows; ++i) {
    const auto& [name, t] = sorted[i];
    std::snprintf(line, sizeof line, "| %s | %lld | %.3f | %.1f %% |\n", name.c_str(), static_cast<long long>(t.calls),
                  t.self_us * 1e-6, all_us > 0 ? 100.0 * t.self_us / all_us : 0.0);
    out << line;
  }
  return out.str();
}

}  // namespace

void start_profile() {
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
}

std::string finish_profile(const std::string& prefix, int rows) {
  auto lists = prof::disableProfilerLegacy();
  std::vector<prof::LegacyEvent*> events;
  for (auto& l : lists)
    for (auto& e : l) events.push_back(&e);
  std::ofstream trace(prefix + ".json");
  if (!trace) fail("cannot write the profile '" + prefix + ".json'", "bench --profile", "check that the folder exists");
  prof::writeProfilerEventsToStream(trace, events);
  const auto summary = format_summary(op_self_times(lists), rows);
  std::ofstream(prefix + ".txt") << summary;
  return summary;
}

}  // namespace dnas::bench
