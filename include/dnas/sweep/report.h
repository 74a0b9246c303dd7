#pragma once
// `dnas report`: reads a study's experiment files and aggregates them into comparison tables
// like the papers' — one row per group (method, plus every grid key other than seeds), top-1
// (and top-5) test error mean ± std over search seeds (each search seed averaged over its eval seeds) and the
// mean within-seed std over eval seeds, best error, parameters, multiply-adds, search cost in
// GPU-days, skip connections, the number of finished runs, the protocol, and the relative
// improvement over the random baselines (`random`, `random_ws`) run in the same study.
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "dnas/sweep/significance.h"

namespace dnas::sweep {

struct ExperimentSummary {
  std::string file, id, status, error, method;
  std::string protocol;                     // dataset, budgets, retrain flags, selection rule
  std::map<std::string, std::string> grid;  // grid.<key> attributes
  std::string train_dataset;                // the retrain's data.dataset
  std::vector<double> test_acc;             // one per eval seed
  std::vector<double> test_top5_acc;        // one per eval seed (empty in records without it)
  double parameters = 0, multiply_adds = 0, search_gpu_days = 0, skips_normal = 0, skips_reduce = 0;
};

// Every experiment file (*.h5 of kind "experiment") in `dir`, in name order; other files are
// ignored, damaged ones are an error naming the file. With `current_ids` (the study's
// experiments.txt), they come in that order, and files of other experiments are left out, their
// names added to `left_out`.
std::vector<ExperimentSummary> load_experiments(const std::string& dir,
                                                const std::vector<std::string>& current_ids = {},
                                                std::vector<std::string>* left_out = nullptr);

struct ReportRow {
  std::string group;  // e.g. "darts_1st" or "darts_1st, supernet.layers=8"
  std::string method;
  std::string protocol;                     // shared by the group's runs ("mixed" otherwise)
  std::map<std::string, std::string> grid;  // the group's non-seed grid values
  // Relative improvement over the random baseline of the same search space and retrain
  // protocol (`random`, else `random_ws`: equal supernet.*, data.* and retrain.* grid values;
  // method settings and the retrained search epoch may differ):
  // 100 * (baseline error - error) / baseline error; NaN without a baseline.
  double vs_random = std::numeric_limits<double>::quiet_NaN();
  int runs = 0, finished = 0;                                                       // experiments, finished ones
  double error_mean = 0, error_std_search = 0, error_std_eval = 0, best_error = 0;  // test error %
  // Top-5 test error %, mean over search seeds and std over them; NaN when a run has none.
  double top5_error_mean = std::numeric_limits<double>::quiet_NaN(), top5_error_std_search = 0;
  std::string train_dataset;  // the group's retrain dataset ("mixed" when they differ)
  double params_m = 0, madds_m = 0, gpu_days = 0, skips_normal = 0, skips_reduce = 0;
  int search_seeds = 0, eval_seeds = 0;
  std::vector<double> seed_errors;  // test error % per search seed (mean over its eval seeds)
  // Significance of the difference to the random row above and to the table's baseline row
  // (the row named by `baseline` in aggregate()); verdict "-" where there is none.
  Comparison vs_random_test, vs_baseline_test;
  std::string baseline_group;  // the row vs_baseline_test compares with
};

// group_by: grid keys (empty = method plus every non-seed grid key that varies). baseline: the
// method (or whole row name) every other row is tested against; empty: none.
std::vector<ReportRow> aggregate(const std::vector<ExperimentSummary>& experiments,
                                 const std::vector<std::string>& group_by = {}, const std::string& baseline = "");

// format: md | csv | tex. md and tex show top-5 error when a row retrains on a dataset of 100 or
// more classes (cifar100, tiny_imagenet, imagenet), as the papers' tables do; csv always has it.
std::string format_report(const std::vector<ReportRow>& rows, const std::string& title, const std::string& format);

// summary.h5 with one dataset per column and the group names.
void write_report(const std::string& path, const std::vector<ReportRow>& rows, const std::string& title);

}  // namespace dnas::sweep
