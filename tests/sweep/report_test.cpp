#include "dnas/sweep/report.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dnas::sweep {
namespace {

ExperimentSummary experiment(const std::string& method, const std::string& seed, const std::string& layers,
                             std::vector<double> acc, const std::string& status = "finished") {
  ExperimentSummary e;
  e.method = method;
  e.status = status;
  e.grid = {{"search.method", method}, {"search.seed", seed}, {"supernet.layers", layers}};
  e.test_acc = std::move(acc);
  e.parameters = 3.3e6;
  e.multiply_adds = 5e8;
  e.search_gpu_days = 0.5;
  return e;
}

TEST(Report, MeanAndStdOverSearchAndEvalSeeds) {
  // darts, L=8: search seed 0 -> errors 10, 12 (mean 11); seed 1 -> 14, 14 (mean 14).
  std::vector<ExperimentSummary> ex = {
      experiment("darts", "0", "8", {0.90, 0.88}), experiment("darts", "1", "8", {0.86, 0.86}),
      experiment("darts", "2", "8", {}, "failed"), experiment("darts", "0", "12", {0.95, 0.95}),
      experiment("gdas", "0", "8", {0.80, 0.70})};
  auto rows = aggregate(ex);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].group, "darts, supernet.layers=8");
  EXPECT_EQ(rows[0].runs, 3);
  EXPECT_EQ(rows[0].finished, 2);
  EXPECT_NEAR(rows[0].error_mean, 12.5, 1e-9);
  EXPECT_NEAR(rows[0].error_std_search, std::sqrt(4.5), 1e-9);    // sample std of {11, 14}
  EXPECT_NEAR(rows[0].error_std_eval, std::sqrt(2.0) / 2, 1e-9);  // mean of {sqrt(2), 0}
  EXPECT_NEAR(rows[0].best_error, 10.0, 1e-9);
  EXPECT_NEAR(rows[0].params_m, 3.3, 1e-9);
  EXPECT_EQ(rows[0].search_seeds, 2);
  EXPECT_EQ(rows[1].group, "darts, supernet.layers=12");
  EXPECT_NEAR(rows[2].error_mean, 25.0, 1e-9);
  // Grouping only by method merges the layer counts.
  auto by_method = aggregate(ex, {"search.method"});
  EXPECT_EQ(by_method.size(), 2u);
  EXPECT_EQ(by_method[0].finished, 3);
}

TEST(Report, RelativeImprovementOverTheRandomBaselineOfTheSameGridValues) {
  // L=8: random 20 % error, darts 15 % -> +25 %; gdas 25 % -> -25 %. L=12 has only random_ws
  // (10 %): darts at 12 % -> -20 %. Random rows compare with themselves (0).
  std::vector<ExperimentSummary> ex = {experiment("random", "0", "8", {0.80}), experiment("darts", "0", "8", {0.85}),
                                       experiment("gdas", "0", "8", {0.75}), experiment("random_ws", "0", "12", {0.90}),
                                       experiment("darts", "0", "12", {0.88})};
  ex[1].protocol = "fmnist; retrain 2 ep";
  const auto rows = aggregate(ex);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].group, "random, supernet.layers=8");
  EXPECT_NEAR(rows[0].vs_random, 0.0, 1e-9);
  EXPECT_NEAR(rows[1].vs_random, 25.0, 1e-9);
  EXPECT_NEAR(rows[2].vs_random, -25.0, 1e-9);
  EXPECT_NEAR(rows[4].vs_random, -20.0, 1e-9);
  EXPECT_EQ(rows[1].protocol, "fmnist; retrain 2 ep");
  const auto md = format_report(rows, "t", "md");
  EXPECT_NE(md.find("| +25.0 | -5.00, too few seeds | - | fmnist; retrain 2 ep |"), std::string::npos) << md;
  // Without a baseline the column is empty.
  const auto alone = aggregate({experiment("darts", "0", "8", {0.9})});
  EXPECT_TRUE(std::isnan(alone[0].vs_random));
  EXPECT_NE(format_report(alone, "t", "md").find("| - | - |"), std::string::npos);
}

TEST(Report, AblationRowsCompareWithTheRandomRowOfTheirSpace) {
  // Method settings (eoinas.lambda) and the retrained search epoch do not define the space:
  // both EoiNAS rows at L=8 compare with random at L=8 (20 %), whose retrain has no epoch key.
  auto ablation = [](const std::string& method, const std::string& lambda, const std::string& layers,
                     const std::string& epoch, double acc) {
    auto e = experiment(method, "0", layers, {acc});
    e.grid["eoinas.lambda"] = lambda;
    e.grid["retrain.model.genotype_epoch"] = epoch;
    return e;
  };
  const auto rows =
      aggregate({ablation("random", "0", "8", "0", 0.80), ablation("eoinas", "0", "8", "20", 0.84),
                 ablation("eoinas", "0.5", "8", "40", 0.85), ablation("eoinas", "0.5", "12", "40", 0.85)});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_NEAR(rows[1].vs_random, 20.0, 1e-9);
  EXPECT_NEAR(rows[2].vs_random, 25.0, 1e-9);
  EXPECT_TRUE(std::isnan(rows[3].vs_random));  // no random row at L=12
}

TEST(Report, Top5ErrorForDatasetsOfManyClasses) {
  // Search seed 0: top-5 accuracies 0.95, 0.93 -> error 6; seed 1: 0.90 -> error 10.
  auto a = experiment("darts", "0", "8", {0.75, 0.73});
  a.test_top5_acc = {0.95, 0.93};
  auto b = experiment("darts", "1", "8", {0.70});
  b.test_top5_acc = {0.90};
  a.train_dataset = b.train_dataset = "imagenet";
  auto rows = aggregate({a, b});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NEAR(rows[0].top5_error_mean, 8.0, 1e-9);
  EXPECT_NEAR(rows[0].top5_error_std_search, std::sqrt(8.0), 1e-9);  // sample std of {6, 10}
  const auto md = format_report(rows, "t", "md");
  EXPECT_NE(md.find("| test error % (± std over search seeds) | top-5 error % |"), std::string::npos) << md;
  EXPECT_NE(md.find("| darts | 28.00 ± 2.83 | 8.00 ± 2.83 |"), std::string::npos) << md;
  EXPECT_NE(format_report(rows, "t", "csv").find(",8,2.82843,\""), std::string::npos);
  // A 10-class table has no top-5 column; a record without top-5 leaves the row's mean NaN.
  a.train_dataset = b.train_dataset = "cifar10";
  b.test_top5_acc.clear();
  rows = aggregate({a, b});
  EXPECT_TRUE(std::isnan(rows[0].top5_error_mean));
  EXPECT_EQ(format_report(rows, "t", "md").find("top-5"), std::string::npos);
}

TEST(Report, FormatsAndUnknownFormat) {
  auto rows = aggregate({experiment("darts", "0", "8", {0.9}), experiment("darts", "1", "8", {0.9})});
  EXPECT_NE(format_report(rows, "t", "md").find("| darts | 10.00 ± 0.00 | - |"), std::string::npos);
  EXPECT_NE(format_report(rows, "t", "csv").find("\"darts\",10.0000"), std::string::npos);
  EXPECT_NE(format_report(rows, "t", "tex").find("$\\pm$"), std::string::npos);
  EXPECT_THROW(format_report(rows, "t", "html"), std::exception);
}

}  // namespace
}  // namespace dnas::sweep
