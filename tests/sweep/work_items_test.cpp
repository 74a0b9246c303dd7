// A study's work items: their order, and the experiment record assembled from the phases' files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "dnas/genotype/published.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/sweep/experiment_record.h"
#include "dnas/train/train_results.h"

namespace dnas::sweep {
namespace {

namespace fs = std::filesystem;

Experiment retrain_only(const std::string& id, std::vector<uint64_t> seeds) {
  Experiment e;
  e.id = id;
  e.train.model.genotype = "DARTS_V2";
  e.eval_seeds = std::move(seeds);
  return e;
}

train::TrainResult result(double test_acc) {
  train::TrainResult r;
  r.genotype = genotype::published_genotype("DARTS_V2");
  r.genotype_origin = "published DARTS_V2";
  r.cost = {1000, 1200, 50000};
  r.channels = 8;
  r.epochs = {{0, 0.05, 0.0, 1.5, 0.4, 0.0, 0.0, 3.0}, {1, 0.02, 0.0, 1.1, 0.6, 0.0, 0.0, 2.5}};
  r.selected_epoch = 1;
  r.test_loss = 1.2;
  r.test_acc = test_acc;
  r.seconds = 5.5;
  return r;
}

void write_phase(const std::string& dir, const std::string& status, double test_acc = 0.5) {
  fs::create_directories(dir);
  store::write_atomically(dir + "/results.h5", [&](store::H5File& f) {
    store::write_provenance(f, {"train", status, status == "failed" ? "loss is NaN" : "", ""});
    if (status == "finished") train::write_train_results(f, "/train", result(test_acc));
  });
}

std::string temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("dnas_work_items_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace

// Every experiment's first item, then every second one, ...; no item for seed slots an
// experiment does not have, and one for an experiment without retrains.
TEST(WorkItems, SeedSlotBySeedSlot) {
  const auto items = plan_work_items({retrain_only("a", {0, 1}), retrain_only("b", {}), retrain_only("c", {0, 1, 2})});
  const std::vector<std::pair<int, int>> expected = {{0, 0}, {1, 0}, {2, 0}, {0, 1}, {2, 1}, {2, 2}};
  ASSERT_EQ(items.size(), expected.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].experiment, expected[i].first) << i;
    EXPECT_EQ(items[i].seed_slot, expected[i].second) << i;
  }
}

TEST(WorkItems, TrainResultsReadBackAsWritten) {
  const auto dir = temp_dir("roundtrip");
  write_phase(dir, "finished", 0.75);
  store::H5File f(dir + "/results.h5", store::H5File::Mode::Read);
  const auto back = train::read_train_results(f, "/train");
  const auto r = result(0.75);
  EXPECT_EQ(genotype::to_string(back.genotype), genotype::to_string(r.genotype));
  EXPECT_EQ(back.genotype_origin, r.genotype_origin);
  EXPECT_EQ(back.cost.parameters, 1000);
  EXPECT_EQ(back.cost.parameters_with_aux, 1200);
  EXPECT_EQ(back.cost.multiply_adds, 50000);
  EXPECT_EQ(back.channels, 8);
  EXPECT_EQ(back.selected_epoch, 1);
  EXPECT_EQ(back.test_acc, 0.75);
  EXPECT_EQ(back.seconds, 5.5);
  ASSERT_EQ(back.epochs.size(), 2u);
  EXPECT_EQ(back.epochs[1].epoch, 1);
  EXPECT_EQ(back.epochs[1].lr, 0.02);
  EXPECT_EQ(back.epochs[1].train_loss, 1.1);
  EXPECT_EQ(back.epochs[0].seconds, 3.0);
}

// The record waits for every eval seed, says "failed" (with the phase and its error) as soon as
// one failed, and "finished" with every seed's accuracy once all finished; a second item that
// ends later finds it written and leaves it.
TEST(WorkItems, RecordIsAssembledWhenEveryPhaseHasSettled) {
  const auto out = temp_dir("record");
  const auto e = retrain_only("exp", {3, 5});
  write_phase(seed_dir(e, out, 3), "finished", 0.6);
  EXPECT_EQ(assemble_record(e, out, 1), "");
  EXPECT_FALSE(fs::exists(experiment_file(out, e.id)));
  write_phase(seed_dir(e, out, 5), "failed");
  EXPECT_EQ(assemble_record(e, out, 1), "failed");
  {
    store::H5File f(experiment_file(out, e.id), store::H5File::Mode::Read);
    EXPECT_EQ(f.string_attribute("/", "error"), "retrain seed 5: loss is NaN");
  }
  retry_failed_phases(out, {e});  // the next sweep runs seed 5 again
  EXPECT_EQ(results_status(seed_dir(e, out, 5) + "/results.h5"), "");
  EXPECT_TRUE(fs::exists(seed_dir(e, out, 5) + "/results.failed.h5"));
  write_phase(seed_dir(e, out, 5), "finished", 0.8);
  EXPECT_EQ(assemble_record(e, out, 1), "finished");
  EXPECT_EQ(assemble_record(e, out, 1), "");  // already written
  store::H5File f(experiment_file(out, e.id), store::H5File::Mode::Read);
  const auto acc = f.read_tensor("/test_acc");
  ASSERT_EQ(acc.numel(), 2);
  EXPECT_EQ(acc[0].item<double>(), 0.6);
  EXPECT_EQ(acc[1].item<double>(), 0.8);
  EXPECT_EQ(f.number_attribute("/", "train_seconds"), 11.0);
}

}  // namespace dnas::sweep
