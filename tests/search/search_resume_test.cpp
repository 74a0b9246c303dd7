// Interrupt a search, resume it from its checkpoint, and compare with an uninterrupted run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/tiny_search.h"
#include "data/test_files.h"
#include "dnas/core/error.h"
#include "dnas/core/signals.h"
#include "dnas/genotype/genotype.h"
#include "dnas/search/search_loop.h"
#include "dnas/store/checkpoint_file.h"

namespace dnas::search {
namespace {

using data::test_files::TempDir;

class SearchResumeTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { data::test_files::write_mnist_like(data_.path(), 128, 8); }
  // GetParam(): "<method>" or "<method>@bf16" (run.precision = bf16).
  SearchConfig config(const std::string& out) const {
    const std::string param = GetParam();
    const auto at = param.find('@');
    auto c = dnas::testing::tiny_search_config(out_.file(out), param.substr(0, at));
    if (at != std::string::npos) c.run.precision = param.substr(at + 1);
    c.data.root = data_.path();
    c.optim.eval_batches = 1;
    c.eoinas.warmup_epochs = 0;  // EoiNAS: statistics from the start and a prune after each epoch
    return c;
  }
  TempDir data_, out_;
};

TEST_P(SearchResumeTest, InterruptedAndResumedEqualsUninterrupted) {
  auto full = run_search(config("full"));
  auto cut = config("cut");
  cut.run.stop_after_steps = 4;  // epoch 2, step 2
  EXPECT_THROW(run_search(cut), core::Interrupted);
  auto mid = store::read_checkpoint(cut.run.out_dir + "/checkpoint.h5", "search");
  EXPECT_EQ(mid.number("epoch"), 1.0);
  EXPECT_EQ(mid.number("step"), 1.0);
  cut.run.stop_after_steps = 0;
  cut.run.resume = true;
  auto resumed = run_search(cut);

  EXPECT_EQ(genotype::to_string(resumed.genotype), genotype::to_string(full.genotype));
  ASSERT_EQ(resumed.epochs.size(), full.epochs.size());
  for (size_t e = 0; e < full.epochs.size(); ++e) {
    EXPECT_EQ(resumed.epochs[e].train_loss, full.epochs[e].train_loss) << e;
    EXPECT_EQ(resumed.epochs[e].search_val_acc, full.epochs[e].search_val_acc) << e;
    EXPECT_EQ(resumed.epochs[e].val_loss, full.epochs[e].val_loss) << e;
    EXPECT_EQ(resumed.epochs[e].genotype, full.epochs[e].genotype) << e;
  }
  auto a = store::read_checkpoint(config("full").run.out_dir + "/checkpoint.h5", "search");
  auto b = store::read_checkpoint(cut.run.out_dir + "/checkpoint.h5", "search");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    if (a.tensors[i].first == "history") continue;  // holds wall times
    EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
    EXPECT_TRUE(torch::equal(a.tensors[i].second, b.tensors[i].second)) << a.tensors[i].first;
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, SearchResumeTest,
                         ::testing::Values("darts_1st", "darts_2nd", "milenas", "gdas", "itnas", "eoinas", "darts_sc",
                                           "milenas_sc", "nasp", "darts_2nd@bf16", "gdas@bf16", "eoinas@bf16",
                                           "milenas_sc@bf16", "nasp@bf16"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (auto& ch : name)
                             if (ch == '@') ch = '_';
                           return name;
                         });

// One epoch of one step on a small IDX set in `data`.
SearchConfig one_step_config(const TempDir& data, const TempDir& out, const std::string& method) {
  data::test_files::write_mnist_like(data.path(), 64, 8);
  auto c = dnas::testing::tiny_search_config(out.file("run"), method);
  c.data.root = data.path();
  c.optim.epochs = 1;
  c.optim.steps_per_epoch = 1;
  c.optim.eval_batches = 1;
  return c;
}

TEST(SearchResume, OtherSettingsAreRefused) {
  TempDir data, out;
  auto c = one_step_config(data, out, "darts_1st");
  run_search(c);
  c.run.resume = true;
  c.run.method = "gdas";
  try {
    run_search(c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("other settings"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dnas::search

namespace dnas::search {
namespace {

// Any result-changing setting of the resolved config (here a GDAS key the old fingerprint left
// out) refuses the resume, naming the key and both values.
TEST(SearchResume, AChangedMethodSettingIsNamed) {
  TempDir data, out;
  data::test_files::write_mnist_like(data.path(), 64, 8);
  auto c = dnas::testing::tiny_search_config(out.file("run"), "gdas");
  c.data.root = data.path();
  c.optim.eval_batches = 1;
  c.run.stop_after_steps = 1;
  c.run.config_text = "[gdas]\ntau_max = 10\n[run]\nthreads = 1\n";
  EXPECT_THROW(run_search(c), core::Interrupted);
  c.run.stop_after_steps = 0;
  c.run.resume = true;
  c.gdas.tau_max = 5;
  c.run.config_text = "[gdas]\ntau_max = 5\n[run]\nthreads = 2\n";
  try {
    run_search(c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gdas.tau_max: '10' -> '5'"), std::string::npos) << e.what();
  }
}

// A fresh run never replaces an earlier run's files without --overwrite.
TEST(SearchOutDir, AnEarlierRunIsNotOverwritten) {
  TempDir data, out;
  auto c = one_step_config(data, out, "darts_1st");
  run_search(c);
  try {
    run_search(c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos) << e.what();
  }
  c.run.overwrite = true;
  EXPECT_NO_THROW(run_search(c));
}

}  // namespace
}  // namespace dnas::search
