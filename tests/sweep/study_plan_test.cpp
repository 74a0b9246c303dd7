#include <gtest/gtest.h>

#include <string>

#include "dnas/core/error.h"
#include "dnas/search/search_keys.h"
#include "dnas/sweep/experiment_record.h"
#include "dnas/sweep/study_plan.h"

using dnas::sweep::expand_study;
using dnas::sweep::StudyPlan;

namespace {

StudyPlan plan_with_search(std::vector<dnas::sweep::GridLine> grid) {
  StudyPlan plan;
  plan.file = "study.ini";
  plan.search = dnas::search::SearchConfig{};
  plan.grid = std::move(grid);
  return plan;
}

std::string error_of(const StudyPlan& plan) {
  try {
    expand_study(plan);
  } catch (const dnas::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(StudyPlan, ZippedKeysSetTheirValuesTogetherAndOtherKeysMultiply) {
  auto plan =
      plan_with_search({{"search.method+sc.lambda", {"darts_sc+1", "milenas_sc+10"}}, {"search.seed", {"0", "1"}}});
  const auto experiments = expand_study(plan);
  ASSERT_EQ(experiments.size(), 4u);
  EXPECT_EQ(experiments[0].id, "search.method-darts_sc_sc.lambda-1_search.seed-0");
  EXPECT_EQ(experiments[3].id, "search.method-milenas_sc_sc.lambda-10_search.seed-1");
  for (const auto& e : experiments) {
    ASSERT_TRUE(e.search);
    EXPECT_EQ(e.search->sc.lambda, e.search->run.method == "darts_sc" ? 1.0 : 10.0) << e.id;
  }
  EXPECT_EQ(experiments[1].search->run.seed, 1u);
  EXPECT_EQ(experiments[2].search->run.seed, 0u);
  // The config text records the grid's values and reads back through the key table exactly.
  EXPECT_NE(experiments[3].search->run.config_text.find("method = milenas_sc"), std::string::npos);
  EXPECT_EQ(experiments[3].search->run.config_text, dnas::search::config_text(*experiments[3].search));
}

TEST(StudyPlan, ExperimentsThatDifferOnlyInRetrainKeysShareTheirSearch) {
  auto plan = plan_with_search({{"search.seed", {"0", "1"}}, {"retrain.model.channels", {"8", "16"}}});
  const auto experiments = expand_study(plan);
  ASSERT_EQ(experiments.size(), 4u);
  // Retrain keys vary slowest; ids keep search keys first.
  EXPECT_EQ(experiments[0].id, "search.seed-0_retrain.model.channels-8");
  EXPECT_EQ(experiments[1].id, "search.seed-1_retrain.model.channels-8");
  EXPECT_EQ(experiments[2].id, "search.seed-0_retrain.model.channels-16");
  EXPECT_EQ(experiments[0].train.model.channels, 8);
  EXPECT_EQ(experiments[2].train.model.channels, 16);
  EXPECT_EQ(dnas::sweep::search_dir(experiments[0], "out"), dnas::sweep::search_dir(experiments[2], "out"));
  EXPECT_NE(dnas::sweep::search_dir(experiments[0], "out"), dnas::sweep::search_dir(experiments[1], "out"));
  // Threads and output paths do not change a search's identity; the device does.
  auto other = *experiments[0].search;
  other.run.threads = 7;
  other.run.out_dir = "elsewhere";
  EXPECT_EQ(dnas::search::identity_text(other), dnas::search::identity_text(*experiments[0].search));
  other.run.device = "cuda";
  EXPECT_NE(dnas::search::identity_text(other), dnas::search::identity_text(*experiments[0].search));
}

TEST(StudyPlan, PublishedGenotypesFollowEachRetrainSetting) {
  auto plan = plan_with_search({{"search.seed", {"0", "1"}}, {"retrain.model.layers", {"5", "8"}}});
  plan.settings.published = "DARTS_V2";
  plan.settings.eval_seeds = "3 4";
  const auto experiments = expand_study(plan);
  ASSERT_EQ(experiments.size(), 6u);
  for (size_t i : {2u, 5u}) {
    const auto& e = experiments[i];
    EXPECT_FALSE(e.search);
    EXPECT_EQ(e.train.model.genotype, "DARTS_V2");
    EXPECT_EQ(e.eval_seeds, (std::vector<uint64_t>{3, 4}));
  }
  EXPECT_EQ(experiments[2].id, "genotype-DARTS_V2_retrain.model.layers-5");
  EXPECT_EQ(experiments[5].train.model.layers, 8);
  EXPECT_EQ(experiments[0].train.model.genotype, "DARTS_V2");  // the default; the search's cell replaces it
  // A retrain-only study: the published rows alone, one per retrain setting.
  StudyPlan retrain_only;
  retrain_only.file = "study.ini";
  retrain_only.settings.published = "DARTS_V1 DARTS_V2";
  retrain_only.grid = {{"retrain.train.seed", {"1", "2"}}};
  const auto rows = expand_study(retrain_only);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].id, "genotype-DARTS_V2_retrain.train.seed-1");
  EXPECT_EQ(rows[3].train.run.seed, 2u);
}

TEST(StudyPlan, FullPrecisionGridValuesReachTheConfigText) {
  auto plan = plan_with_search({{"search.w_lr", {"0.1234567891"}}});
  const auto e = expand_study(plan).front();
  EXPECT_EQ(e.search->optim.w_lr, 0.1234567891);
  EXPECT_NE(e.search->run.config_text.find("w_lr = 0.1234567891\n"), std::string::npos) << e.search->run.config_text;
}

TEST(StudyPlan, BadGridsAreRefusedNamingTheKeyAndFile) {
  const auto expect_error = [](const StudyPlan& plan, const std::string& needle) {
    const auto msg = error_of(plan);
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_NE(msg.find("study.ini"), std::string::npos) << msg;
  };
  expect_error(plan_with_search({{"search.no_such_key", {"1"}}}), "search.no_such_key");
  expect_error(plan_with_search({{"retrain.model.colour", {"1"}}}), "retrain.model.colour");
  expect_error(plan_with_search({{"search.seed", {"1", "1"}}}), "twice");
  expect_error(plan_with_search({{"search.seed+sc.lambda", {"1+2", "3"}}}), "one part per key");
  expect_error(plan_with_search({{"data.batch_size", {"0"}}}), "data.batch_size");
  expect_error(plan_with_search({{"search.epochs", {"three"}}}), "search.epochs");
  expect_error(plan_with_search({{"search.method", {"darts_3rd"}}}), "search.method");
  auto seeds = plan_with_search({});
  seeds.settings.eval_seeds = "0 1 0";
  expect_error(seeds, "listed twice");
  StudyPlan no_search;
  no_search.file = "study.ini";
  no_search.settings.published = "DARTS_V2";
  no_search.grid = {{"search.seed", {"0", "1"}}};
  expect_error(no_search, "has no search");
  auto layers = plan_with_search({{"retrain.model.layers", {"5"}}});
  layers.settings.eval_layers_from_search = true;
  expect_error(layers, "eval_layers_from_search");
}
