#include "dnas/sweep/study.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "dnas/sweep/experiment_record.h"

namespace dnas::sweep {

StudySummary run_study(const StudyConfig& study, const std::vector<Experiment>& experiments, WorkQueue& queue,
                       std::shared_ptr<comm::ProcessGroup> group) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::filesystem::create_directories(study.out_dir);
  const auto items = plan_work_items(experiments);
  StudySummary s;
  for (int i; (i = queue.next()) >= 0;) {
    const auto& item = items.at(static_cast<size_t>(i));
    const auto& e = experiments.at(static_cast<size_t>(item.experiment));
    if (e.eval_seeds.empty())
      spdlog::info("sweep: item {}/{}: {}", i + 1, items.size(), e.id);
    else
      spdlog::info("sweep: item {}/{}: {}, eval seed {}", i + 1, items.size(), e.id,
                   e.eval_seeds[static_cast<size_t>(item.seed_slot)]);
    const auto t0 = Clock::now();
    const auto outcome = run_work_item(e, item.seed_slot, study.out_dir, group);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (outcome.status != ExperimentStatus::Skipped) s.busy_seconds += seconds - outcome.waited_seconds;
  }
  s.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return s;
}

std::pair<int, int> count_records(const std::string& out_dir, const std::vector<Experiment>& experiments) {
  std::pair<int, int> counts{0, 0};
  for (const auto& e : experiments) {
    const auto status = results_status(experiment_file(out_dir, e.id));
    counts.first += status == "finished";
    counts.second += status == "failed";
  }
  return counts;
}

}  // namespace dnas::sweep
