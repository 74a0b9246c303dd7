// Streamed retrains (data.stream): the image loader feeds the steps. The same results for any
// loader thread count and after a resume mid-epoch (to float rounding), top-5 counted by hand,
// and the settings that do not combine with streaming refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "common/error_of.h"
#include "data/image_test_data.h"
#include "data/test_files.h"
#include "dnas/core/error.h"
#include "dnas/core/signals.h"
#include "dnas/store/checkpoint_file.h"
#include "dnas/train/losses.h"
#include "dnas/train/trainer.h"

namespace dnas::train {
namespace {

using data::image_test_data::fixture;
using data::test_files::TempDir;
using dnas::testing::error_of;

TEST(TopK, CorrectCountsByHand) {
  // Row 0: label 2 is the 3rd largest; row 1: label 0 is the largest; row 2: label 1 is the smallest of 4.
  auto logits = torch::tensor({{0.9, 0.1, 0.5, 0.7}, {3.0, 1.0, 2.0, 0.0}, {0.4, -1.0, 0.2, 0.3}});
  auto labels = torch::tensor({int64_t{2}, int64_t{0}, int64_t{1}});
  EXPECT_EQ(top_k_correct(logits, labels, 1), 1);
  EXPECT_EQ(top_k_correct(logits, labels, 2), 1);
  EXPECT_EQ(top_k_correct(logits, labels, 3), 2);
  EXPECT_EQ(top_k_correct(logits, labels, 4), 3);
  EXPECT_EQ(top_k_correct(logits, labels, 5), 3);  // k beyond the classes: every row
}

class StreamTrainTest : public ::testing::Test {
 protected:
  TrainConfig config(const std::string& out) const {
    TrainConfig c;
    c.data.dataset = "imagenet";
    c.data.root = fixture("imagenet");  // 3 classes, 9 train and 3 val JPEGs of 30-56 pixels
    c.data.image_size = 16;
    c.data.stream = true;
    c.data.loader_threads = 1;
    c.data.prefetch = 2;
    c.data.batch_size = 4;  // batches of 4, 4, 1
    c.data.cutout = 0;
    c.model.channels = 4;
    c.model.layers = 3;
    c.model.drop_path = 0.2;
    c.optim.epochs = 2;
    c.optim.lr = 0.05;
    c.optim.label_smoothing = 0.1;
    c.run.threads = 1;
    c.run.progress = false;
    c.run.out_dir = out_.file(out);
    return c;
  }
  // The batches are bit-identical (tests/data/image_loader_test.cpp), but the losses of two
  // streamed runs can differ in the 7th digit: with loader threads running beside the steps,
  // about 1 run in 8 here rounds differently (cause not found; an in-memory retrain does not).
  static void expect_same(const TrainResult& a, const TrainResult& b) {
    ASSERT_EQ(a.epochs.size(), b.epochs.size());
    for (size_t e = 0; e < a.epochs.size(); ++e) {
      EXPECT_NEAR(a.epochs[e].train_loss, b.epochs[e].train_loss, 1e-6 * a.epochs[e].train_loss) << "epoch " << e;
      EXPECT_EQ(a.epochs[e].train_acc, b.epochs[e].train_acc) << "epoch " << e;
    }
    EXPECT_NEAR(a.test_loss, b.test_loss, 1e-6 * a.test_loss);
    EXPECT_EQ(a.test_acc, b.test_acc);
  }
  TempDir out_;
};

TEST_F(StreamTrainTest, ResultsDoNotDependOnLoaderThreadsAndResumeMidEpochContinuesTheRun) {
  const auto one = run_training(config("one"));
  ASSERT_EQ(one.epochs.size(), 2u);
  EXPECT_EQ(one.test_top5_acc, 1.0) << "3 classes: the label is always among the top 5";
  EXPECT_GE(one.epochs[1].data_wait, 0.0);
  EXPECT_LE(one.epochs[1].data_wait, one.epochs[1].seconds);

  auto three = config("three");
  three.data.loader_threads = 3;
  expect_same(run_training(three), one);

  auto cut = config("cut");
  cut.run.stop_after_steps = 4;  // epoch 2, step 1: the loader restarts at its second batch
  EXPECT_THROW(run_training(cut), core::Interrupted);
  EXPECT_EQ(store::read_checkpoint(cut.run.out_dir + "/checkpoint.h5", "train").number("step"), 1.0);
  cut.run.stop_after_steps = 0;
  cut.run.resume = true;
  expect_same(run_training(cut), one);
}

TEST_F(StreamTrainTest, TinyImagenetStreamsItsTwoHundredClasses) {
  auto c = config("tiny");
  c.data.dataset = "tiny_imagenet";
  c.data.root = fixture("tiny");  // 200 classes, one train image each, 12 val images
  c.data.image_size = 0;
  c.data.batch_size = 50;
  c.optim.epochs = 1;
  c.optim.steps_per_epoch = 2;
  const auto r = run_training(c);
  EXPECT_EQ(r.epochs.size(), 1u);
  // 12 test images: accuracies are multiples of 1/12, top-5 at least top-1.
  EXPECT_NEAR(r.test_top5_acc * 12, std::round(r.test_top5_acc * 12), 1e-9);
  EXPECT_GE(r.test_top5_acc, r.test_acc);
}

TEST_F(StreamTrainTest, SettingsThatDoNotStreamAreRefused) {
  auto c = config("bad");
  c.data.dataset = "cifar10";
  EXPECT_NE(error_of([&] { validate(c); }).find("data.stream"), std::string::npos);
  c = config("bad");
  c.data.val_portion = 0.2;
  EXPECT_NE(error_of([&] { validate(c); }).find("data.val_portion"), std::string::npos);
  c = config("bad");
  c.data.cutout = 8;
  EXPECT_NE(error_of([&] { validate(c); }).find("data.cutout"), std::string::npos);
  c = config("bad");
  c.data.stream = false;
  c.data.train_shards = "shards/train";
  EXPECT_NE(error_of([&] { validate(c); }).find("data.train_shards"), std::string::npos);
  c = config("bad");
  c.data.train_shards = out_.file("missing/train");
  EXPECT_NE(error_of([&] { run_training(c); }).find("missing/train.index.txt"), std::string::npos);
}

}  // namespace
}  // namespace dnas::train
