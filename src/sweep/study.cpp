#include "dnas/sweep/study.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

namespace dnas::sweep {

StudySummary run_study(const StudyConfig& study, const std::vector<Experiment>& experiments, WorkQueue& queue,
                       std::shared_ptr<comm::ProcessGroup> group) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::filesystem::create_directories(study.out_dir);
  StudySummary s;
  for (int i; (i = queue.next()) >= 0;) {
    const auto& e = experiments.at(static_cast<size_t>(i));
    spdlog::info("sweep: experiment {}/{}: {}", i + 1, experiments.size(), e.id);
    const auto t0 = Clock::now();
    const auto status = run_experiment(e, study.out_dir, group);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (status != ExperimentStatus::Skipped) s.busy_seconds += seconds;
    if (group->leader())
      (status == ExperimentStatus::Finished ? s.finished : status == ExperimentStatus::Failed ? s.failed : s.skipped)++;
    queue.report(i, status, seconds);
  }
  s.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return s;
}

}  // namespace dnas::sweep
