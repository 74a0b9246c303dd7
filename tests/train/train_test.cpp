#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "common/error_of.h"
#include "data/test_files.h"
#include "dnas/core/error.h"
#include "dnas/core/signals.h"
#include "dnas/genotype/published.h"
#include "dnas/store/checkpoint_file.h"
#include "dnas/store/h5_file.h"
#include "dnas/train/genotype_source.h"
#include "dnas/train/losses.h"
#include "dnas/train/lr_schedule.h"
#include "dnas/train/trainer.h"

namespace dnas::train {
namespace {

using data::test_files::TempDir;

using dnas::testing::error_of;

TEST(LrSchedule, ClosedFormValues) {
  TrainOptim o;
  o.epochs = 600;
  o.lr = 0.025;
  EXPECT_DOUBLE_EQ(learning_rate(o, 0), 0.025);
  EXPECT_NEAR(learning_rate(o, 300), 0.0125, 1e-15);
  EXPECT_NEAR(learning_rate(o, 600), 0.0, 1e-15);
  o.schedule = "exponential";
  o.lr = 0.1;
  EXPECT_NEAR(learning_rate(o, 2), 0.1 * 0.97 * 0.97, 1e-15);
  o.schedule = "linear_warmup";
  o.lr = 0.5;
  o.epochs = 250;
  EXPECT_NEAR(learning_rate(o, 0), 0.5 / 5, 1e-15);
  EXPECT_NEAR(learning_rate(o, 4), 0.5 * (1 - 4.0 / 250), 1e-15);
  EXPECT_NEAR(learning_rate(o, 10), 0.5 * (1 - 10.0 / 250), 1e-15);
}

TEST(Losses, LabelSmoothingByHand) {
  auto logits = torch::tensor({{2.0, 0.0}}, torch::kFloat64);
  auto label = torch::tensor({int64_t{0}});
  const double lse = std::log(1 + std::exp(-2.0));  // -log p0
  const double log_p0 = -lse, log_p1 = -2.0 - lse;
  EXPECT_NEAR(smoothed_cross_entropy(logits, label, 0.0).item<double>(), -log_p0, 1e-12);
  // eps 0.2, K 2: targets 0.9 / 0.1.
  EXPECT_NEAR(smoothed_cross_entropy(logits, label, 0.2).item<double>(), -(0.9 * log_p0 + 0.1 * log_p1), 1e-12);
  // Uniform logits: log K whatever eps.
  EXPECT_NEAR(
      smoothed_cross_entropy(torch::zeros({3, 4}, torch::kFloat64), torch::tensor({0, 1, 3}), 0.3).item<double>(),
      std::log(4.0), 1e-12);
}

TEST(GenotypeSource, NameTextFileAndDirectory) {
  EXPECT_EQ(resolve_genotype("DARTS_V2").genotype, genotype::published_genotype("DARTS_V2"));
  const auto text = genotype::to_string(genotype::published_genotype("NASNet"));
  EXPECT_EQ(resolve_genotype(text).genotype, genotype::published_genotype("NASNet"));
  TempDir dir;
  { std::ofstream(dir.file("genotype.txt")) << "\n" << text << "\n"; }
  EXPECT_EQ(resolve_genotype(dir.file("genotype.txt")).origin, "file " + dir.file("genotype.txt"));
  EXPECT_EQ(resolve_genotype(dir.path()).genotype, genotype::published_genotype("NASNet"));
  EXPECT_NE(error_of([] { resolve_genotype(""); }).find("model.genotype"), std::string::npos);
  EXPECT_NE(error_of([] { resolve_genotype("DARTS_V9"); }).find("DARTS_V2"), std::string::npos);
  { std::ofstream(dir.file("empty.txt")) << "\n"; }
  EXPECT_NE(error_of([&] { resolve_genotype(dir.file("empty.txt")); }).find("empty"), std::string::npos);
}

TEST(GenotypeSource, TheCellOfASearchEpoch) {
  TempDir dir;
  const auto v1 = genotype::to_string(genotype::published_genotype("DARTS_V1"));
  const auto v2 = genotype::to_string(genotype::published_genotype("DARTS_V2"));
  {
    store::H5File f(dir.file("results.h5"), store::H5File::Mode::Create);
    f.write_strings("search/genotypes", {v1, v2});
  }
  EXPECT_EQ(resolve_genotype(dir.path(), "model.genotype", 1).genotype, genotype::published_genotype("DARTS_V1"));
  EXPECT_EQ(resolve_genotype(dir.path(), "model.genotype", 2).genotype, genotype::published_genotype("DARTS_V2"));
  const auto late = error_of([&] { resolve_genotype(dir.path(), "model.genotype", 3); });
  EXPECT_NE(late.find("results.h5"), std::string::npos) << late;
  EXPECT_NE(late.find("from 1 to 2"), std::string::npos) << late;
  TempDir empty;
  EXPECT_NE(error_of([&] { resolve_genotype(empty.path(), "model.genotype", 1); }).find("model.genotype"),
            std::string::npos);
}

class TrainRunTest : public ::testing::Test {
 protected:
  void SetUp() override { data::test_files::write_mnist_like(data_.path(), 96, 40); }

  TrainConfig config(const std::string& out) const {
    TrainConfig c;
    c.data.root = data_.path();
    c.data.batch_size = 16;
    c.data.cutout = 6;
    c.data.crop_padding = 2;
    c.data.val_portion = 0.25;
    c.model.channels = 4;
    c.model.layers = 3;
    c.model.drop_path = 0.3;
    c.optim.epochs = 2;
    c.optim.steps_per_epoch = 3;
    c.optim.lr = 0.05;
    c.optim.select = "best_val";
    c.run.threads = 1;
    c.run.progress = false;
    c.run.out_dir = out_.file(out);
    return c;
  }
  void check_resume(const std::string& precision, TrainResult& full);
  TempDir data_, out_;
};

// A run stopped mid-epoch and resumed ends with the same numbers and checkpoint as one that ran
// through; `full` is the uninterrupted run.
void TrainRunTest::check_resume(const std::string& precision, TrainResult& full) {
  auto full_config = config("full_" + precision);
  full_config.run.precision = precision;
  full = run_training(full_config);
  ASSERT_EQ(full.epochs.size(), 2u);

  auto cut = config("cut_" + precision);
  cut.run.precision = precision;
  cut.run.stop_after_steps = 4;  // stops at epoch 2 step 2 (after 3 + 1 steps)
  EXPECT_THROW(run_training(cut), core::Interrupted);
  auto ck = store::read_checkpoint(cut.run.out_dir + "/checkpoint.h5", "train");
  EXPECT_EQ(ck.number("epoch"), 1.0);
  EXPECT_EQ(ck.number("step"), 1.0);
  cut.run.stop_after_steps = 0;
  cut.run.resume = true;
  auto resumed = run_training(cut);

  EXPECT_EQ(resumed.test_acc, full.test_acc);
  EXPECT_EQ(resumed.test_loss, full.test_loss);
  EXPECT_EQ(resumed.selected_epoch, full.selected_epoch);
  ASSERT_EQ(resumed.epochs.size(), full.epochs.size());
  for (size_t i = 0; i < full.epochs.size(); ++i) {
    EXPECT_EQ(resumed.epochs[i].train_loss, full.epochs[i].train_loss) << i;
    EXPECT_EQ(resumed.epochs[i].train_acc, full.epochs[i].train_acc) << i;
    EXPECT_EQ(resumed.epochs[i].val_loss, full.epochs[i].val_loss) << i;
  }
  auto a = store::read_checkpoint(full_config.run.out_dir + "/checkpoint.h5", "train");
  auto b = store::read_checkpoint(cut.run.out_dir + "/checkpoint.h5", "train");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    if (a.tensors[i].first == "history") continue;  // holds wall times
    EXPECT_TRUE(torch::equal(a.tensors[i].second, b.tensors[i].second)) << a.tensors[i].first;
    if (a.tensors[i].second.is_floating_point()) {  // fp32 masters and momenta whatever the precision
      EXPECT_NE(a.tensors[i].second.scalar_type(), torch::kBFloat16) << a.tensors[i].first;
    }
  }
  EXPECT_TRUE(std::filesystem::exists(cut.run.out_dir + "/metrics.csv"));
  EXPECT_TRUE(std::filesystem::exists(cut.run.out_dir + "/result.txt"));
}

TEST_F(TrainRunTest, ResumeIsBitIdentical) {
  TrainResult full;
  check_resume("fp32", full);
}

// bf16 autocast: the same checkpoint format, a bit-identical resume, and numbers that differ from
// fp32 (the switch is in effect).
TEST_F(TrainRunTest, Bf16ResumeIsBitIdentical) {
  TrainResult bf16;
  check_resume("bf16", bf16);
  auto fp32 = config("fp32");
  EXPECT_NE(run_training(fp32).epochs[0].train_loss, bf16.epochs[0].train_loss);
}

TEST_F(TrainRunTest, ParameterTargetPicksTheChannelsAndTheirWeights) {
  auto fixed = config("fixed");
  fixed.model.channels = 6;
  fixed.optim.epochs = 1;
  const auto a = run_training(fixed);
  auto target = config("target");
  target.optim.epochs = 1;
  target.model.target_params = static_cast<double>(a.cost.parameters) / 1e6;  // exactly C = 6's count
  const auto b = run_training(target);
  EXPECT_EQ(b.channels, 6);
  EXPECT_EQ(b.cost.parameters, a.cost.parameters);
  // The probe networks that chose C do not shift the initialisation: the same run as C = 6.
  EXPECT_EQ(b.epochs[0].train_loss, a.epochs[0].train_loss);
  EXPECT_EQ(b.test_loss, a.test_loss);
}

TEST_F(TrainRunTest, MismatchedOrDamagedCheckpointIsAnErrorAndKeepsTheFile) {
  auto c = config("run");
  c.optim.epochs = 1;
  c.optim.steps_per_epoch = 2;
  run_training(c);
  const auto path = c.run.out_dir + "/checkpoint.h5";
  const auto size = std::filesystem::file_size(path);

  auto other = c;
  other.run.resume = true;
  other.run.seed = 7;
  auto msg = error_of([&] { run_training(other); });
  EXPECT_NE(msg.find("other settings"), std::string::npos) << msg;
  EXPECT_EQ(std::filesystem::file_size(path), size);

  std::filesystem::resize_file(path, size / 2);
  auto resume = c;
  resume.run.resume = true;
  msg = error_of([&] { run_training(resume); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;

  auto missing = c;
  missing.run.resume = true;
  missing.run.out_dir = out_.file("nothing");
  EXPECT_NE(error_of([&] { run_training(missing); }).find("no checkpoint"), std::string::npos);
}

TEST_F(TrainRunTest, SigusrCheckpointsAtTheNextStep) {
  auto c = config("signal");
  core::install_stop_handlers();
  std::raise(SIGUSR1);  // the handler only sets the flag
  ASSERT_TRUE(core::stop_requested());
  EXPECT_THROW(run_training(c), core::Interrupted);
  core::clear_stop_request();
  auto ck = store::read_checkpoint(c.run.out_dir + "/checkpoint.h5", "train");
  EXPECT_EQ(ck.number("epoch"), 0.0);
  EXPECT_EQ(ck.number("step"), 0.0);
  c.run.resume = true;
  auto resumed = run_training(c);
  EXPECT_EQ(resumed.epochs.size(), 2u);
}

TEST(TrainConfig, SelectionNeverUsesTheTestSet) {
  TrainConfig c;
  c.optim.select = "best_val";
  EXPECT_NE(error_of([&] { validate(c); }).find("data.val_portion"), std::string::npos);
  c.data.val_portion = 0.1;
  EXPECT_NO_THROW(validate(c));
}

}  // namespace
}  // namespace dnas::train
