// IDX reader: plain and gzip round trips, malformed files, the real Fashion-MNIST, and the
// datasets' normalisation constants (published values; training-set statistics where installed).
#include "dnas/data/idx_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <utility>
#include <vector>

#include "data/test_files.h"
#include "dnas/core/error.h"
#include "dnas/data/dataset.h"

namespace dnas::data {
namespace {

using test_files::TempDir;
using ::testing::HasSubstr;

// 2 images of 2x3 pixels with distinct values 10..21.
std::vector<uint8_t> image_file_bytes(uint32_t magic = 2051, uint32_t count = 2) {
  std::vector<uint8_t> b;
  test_files::append_be32(b, magic);
  test_files::append_be32(b, count);
  test_files::append_be32(b, 2);
  test_files::append_be32(b, 3);
  for (uint8_t v = 10; v < 22; ++v) b.push_back(v);
  return b;
}

std::vector<uint8_t> label_file_bytes(std::vector<uint8_t> labels) {
  std::vector<uint8_t> b;
  test_files::append_be32(b, 2049);
  test_files::append_be32(b, static_cast<uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// Runs `f`, expects a dnas::Error whose message contains `needle`.
template <class F>
void expect_error_containing(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected dnas::Error containing " << needle;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(needle));
  }
}

void check_images(const torch::Tensor& images) {
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{2, 1, 2, 3}));
  EXPECT_EQ(images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(images[0][0][0][0].item<int>(), 10);
  EXPECT_EQ(images[0][0][1][2].item<int>(), 15);
  EXPECT_EQ(images[1][0][0][0].item<int>(), 16);
  EXPECT_EQ(images[1][0][1][2].item<int>(), 21);
}

TEST(IdxReader, PlainRoundTrip) {
  TempDir dir;
  test_files::write_bytes(dir.file("images"), image_file_bytes());
  test_files::write_bytes(dir.file("labels"), label_file_bytes({7, 3}));
  check_images(read_idx_images(dir.file("images")));
  const auto labels = read_idx_labels(dir.file("labels"));
  ASSERT_EQ(labels.sizes(), (std::vector<int64_t>{2}));
  EXPECT_EQ(labels.scalar_type(), torch::kInt64);
  EXPECT_EQ(labels[0].item<int64_t>(), 7);
  EXPECT_EQ(labels[1].item<int64_t>(), 3);
}

TEST(IdxReader, GzipDetectedByMagicNotSuffix) {
  TempDir dir;
  test_files::write_gzip(dir.file("images.gz"), image_file_bytes());
  test_files::write_gzip(dir.file("labels_without_suffix"), label_file_bytes({1, 9}));
  check_images(read_idx_images(dir.file("images.gz")));
  const auto labels = read_idx_labels(dir.file("labels_without_suffix"));
  EXPECT_EQ(labels[0].item<int64_t>(), 1);
  EXPECT_EQ(labels[1].item<int64_t>(), 9);
}

TEST(IdxReader, WrongMagicNamesFile) {
  TempDir dir;
  const auto path = dir.file("bad_magic");
  test_files::write_bytes(path, image_file_bytes(2050));
  expect_error_containing([&] { read_idx_images(path); }, path);
  expect_error_containing([&] { read_idx_images(path); }, "magic");
  // A labels file passed as images is rejected too.
  test_files::write_bytes(path, label_file_bytes({1, 2}));
  expect_error_containing([&] { read_idx_images(path); }, path);
}

TEST(IdxReader, TruncatedPayloadSaysExpectedAndGot) {
  TempDir dir;
  const auto path = dir.file("truncated");
  auto bytes = image_file_bytes();
  bytes.resize(bytes.size() - 5);
  test_files::write_bytes(path, bytes);
  expect_error_containing([&] { read_idx_images(path); }, path);
  expect_error_containing([&] { read_idx_images(path); }, "expected 12 bytes");
  expect_error_containing([&] { read_idx_images(path); }, "got 7");
  // Truncated inside the gzip stream as well.
  test_files::write_gzip(path, bytes);
  expect_error_containing([&] { read_idx_images(path); }, path);
}

TEST(IdxReader, TrailingBytesRejected) {
  TempDir dir;
  const auto images = dir.file("trailing_images"), labels = dir.file("trailing_labels");
  auto bytes = image_file_bytes();
  bytes.push_back(0);
  test_files::write_bytes(images, bytes);
  expect_error_containing([&] { read_idx_images(images); }, images);
  auto label_bytes = label_file_bytes({1, 2});
  label_bytes.push_back(3);
  test_files::write_bytes(labels, label_bytes);
  expect_error_containing([&] { read_idx_labels(labels); }, labels);
}

TEST(IdxReader, LabelBeyondClassesRejected) {
  TempDir dir;
  const auto path = dir.file("labels");
  test_files::write_bytes(path, label_file_bytes({3, 10}));
  EXPECT_EQ(read_idx_labels(path).size(0), 2);  // no class count: accepted
  expect_error_containing([&] { read_idx_labels(path, 10); }, path);
}

TEST(IdxReader, MissingFileNamesPath) {
  TempDir dir;
  const auto path = dir.file("nothing_here");
  expect_error_containing([&] { read_idx_images(path); }, path);
}

// Writes a tiny MNIST-shaped dataset (28x28) with `train_labels` training labels.
void write_tiny_mnist(const TempDir& dir, uint32_t train_images, uint32_t train_labels) {
  auto images = [](uint32_t n) {
    std::vector<uint8_t> b;
    test_files::append_be32(b, 2051);
    test_files::append_be32(b, n);
    test_files::append_be32(b, 28);
    test_files::append_be32(b, 28);
    b.resize(b.size() + n * 28 * 28, 200);
    return b;
  };
  test_files::write_bytes(dir.file("train-images-idx3-ubyte"), images(train_images));
  test_files::write_gzip(dir.file("train-labels-idx1-ubyte.gz"),
                         label_file_bytes(std::vector<uint8_t>(train_labels, 4)));
  test_files::write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), images(1));
  test_files::write_bytes(dir.file("t10k-labels-idx1-ubyte"), label_file_bytes({5}));
}

TEST(LoadDataset, MixedPlainAndGzipFiles) {
  TempDir dir;
  write_tiny_mnist(dir, 3, 3);
  const auto d = load_dataset("mnist", dir.path());
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{3, 1, 28, 28}));
  EXPECT_EQ(d.test.size(), 1);
  EXPECT_EQ(d.test.labels[0].item<int64_t>(), 5);
  EXPECT_EQ(d.train.images[2][0][27][27].item<int>(), 200);
}

TEST(LoadDataset, CountMismatchNamesBothFiles) {
  TempDir dir;
  write_tiny_mnist(dir, 3, 2);
  expect_error_containing([&] { load_dataset("mnist", dir.path()); }, dir.file("train-images-idx3-ubyte"));
  expect_error_containing([&] { load_dataset("mnist", dir.path()); }, dir.file("train-labels-idx1-ubyte.gz"));
}

TEST(LoadDataset, MissingFilesAndUnknownName) {
  TempDir dir;
  expect_error_containing([&] { load_dataset("fashion_mnist", dir.path()); }, dir.file("train-images-idx3-ubyte"));
  expect_error_containing([&] { load_dataset("fashion_mnist", dir.path()); }, "apt-get install dataset-fashion-mnist");
  expect_error_containing([&] { load_dataset("cifar10", dir.path()); }, dir.file("data_batch_1.bin"));
  expect_error_containing([&] { dataset_info("imagenet21k"); }, "cifar100");
  EXPECT_EQ(default_data_root("fashion_mnist"), "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(dataset_info("cifar10").mean.size(), 3u);
}

TEST(LoadDataset, RealFashionMnist) {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << root << " is not installed";
  const auto d = load_dataset("fashion_mnist", root);
  EXPECT_EQ(d.info.classes, 10);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(d.train.labels.sizes(), (std::vector<int64_t>{60000}));
  EXPECT_EQ(d.test.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(d.test.size(), 10000);
  EXPECT_GE(d.train.labels.min().item<int64_t>(), 0);
  EXPECT_LT(d.train.labels.max().item<int64_t>(), 10);
  const auto per_class = torch::bincount(d.train.labels, {}, 10);  // [10]
  for (int64_t c = 0; c < 10; ++c) EXPECT_EQ(per_class[c].item<int64_t>(), 6000) << "class " << c;
  // The pixel mean is close to the normalisation constant.
  EXPECT_NEAR(d.train.images.to(torch::kFloat64).mean().item<double>() / 255, d.info.mean[0], 1e-3);
}

// Per-channel mean and population standard deviation of uint8 images [N, C, H, W] scaled to
// [0, 1], from exact per-channel counts of the 256 byte values.
std::pair<std::vector<double>, std::vector<double>> channel_statistics(const torch::Tensor& images) {
  const auto x = images.contiguous();
  const int64_t n = x.size(0), channels = x.size(1), plane = x.size(2) * x.size(3);
  std::vector<std::vector<int64_t>> counts(static_cast<size_t>(channels), std::vector<int64_t>(256, 0));
  const uint8_t* p = x.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < channels; ++c) {
      const uint8_t* q = p + (i * channels + c) * plane;
      auto& h = counts[static_cast<size_t>(c)];
      for (int64_t k = 0; k < plane; ++k) ++h[q[k]];
    }
  std::vector<double> mean, stdev;
  const double total = static_cast<double>(n * plane);
  for (const auto& h : counts) {
    double m = 0;
    for (int v = 0; v < 256; ++v) m += static_cast<double>(h[static_cast<size_t>(v)]) * v / 255.0;
    m /= total;
    double var = 0;
    for (int v = 0; v < 256; ++v) var += static_cast<double>(h[static_cast<size_t>(v)]) * std::pow(v / 255.0 - m, 2);
    mean.push_back(m);
    stdev.push_back(std::sqrt(var / total));
  }
  return {mean, stdev};
}

TEST(ChannelStatistics, HandExample) {
  // Channel 0: 0, 255, 255, 255 -> mean 0.75, std sqrt(0.75 * 0.25); channel 1: all 51 -> 0.2, 0.
  auto x = torch::tensor({0, 255, 51, 51, 255, 255, 51, 51}, torch::kUInt8).reshape({2, 2, 1, 2});
  const auto [mean, stdev] = channel_statistics(x);
  EXPECT_DOUBLE_EQ(mean[0], 0.75);
  EXPECT_NEAR(stdev[0], std::sqrt(0.75 * 0.25), 1e-15);
  EXPECT_NEAR(mean[1], 0.2, 1e-15);
  EXPECT_NEAR(stdev[1], 0.0, 1e-15);
}

void expect_constants(const std::string& name, const std::vector<double>& mean, const std::vector<double>& stdev) {
  const auto info = dataset_info(name);
  ASSERT_EQ(info.mean.size(), static_cast<size_t>(info.channels)) << name;
  ASSERT_EQ(info.std.size(), static_cast<size_t>(info.channels)) << name;
  ASSERT_EQ(mean.size(), static_cast<size_t>(info.channels)) << name;
  for (size_t c = 0; c < mean.size(); ++c) {
    EXPECT_FLOAT_EQ(info.mean[c], static_cast<float>(mean[c])) << name << " channel " << c;
    EXPECT_FLOAT_EQ(info.std[c], static_cast<float>(stdev[c])) << name << " channel " << c;
  }
}

TEST(DatasetInfo, NormalisationConstantsAreThePublishedOnes) {
  // CIFAR-10: docs/methods.md 1.4, the DARTS code's CIFAR_MEAN / CIFAR_STD: the training set's mean and
  // population std per channel (not the often-copied std 0.2023, 0.1994, 0.2010).
  expect_constants("cifar10", {0.49139968, 0.48215827, 0.44653124}, {0.24703233, 0.24348505, 0.26158768});
  // CIFAR-100, MNIST, Fashion-MNIST: the usual 4-digit training-set values.
  expect_constants("cifar100", {0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762});
  expect_constants("mnist", {0.1307}, {0.3081});
  expect_constants("fashion_mnist", {0.2860}, {0.3530});
}

// The constants claim to be the training set's statistics: where the real files are installed
// (each dataset's default location), compute them from the data. `tolerance`: the constants' rounding.
void expect_training_statistics(const std::string& name, double tolerance) {
  const auto root = default_data_root(name);
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << name << ": " << root << " is not installed";
  const auto d = load_dataset(name, root);
  const auto [mean, stdev] = channel_statistics(d.train.images);
  for (size_t c = 0; c < mean.size(); ++c) {
    EXPECT_NEAR(d.info.mean[c], mean[c], tolerance) << name << " channel " << c;
    EXPECT_NEAR(d.info.std[c], stdev[c], tolerance) << name << " channel " << c;
  }
}

TEST(LoadDataset, FashionMnistConstantsAreItsTrainingSetStatistics) {
  expect_training_statistics("fashion_mnist", 5e-5);
}
TEST(LoadDataset, MnistConstantsAreItsTrainingSetStatistics) { expect_training_statistics("mnist", 5e-5); }
TEST(LoadDataset, Cifar10ConstantsAreItsTrainingSetStatistics) { expect_training_statistics("cifar10", 1e-6); }
TEST(LoadDataset, Cifar100ConstantsAreItsTrainingSetStatistics) { expect_training_statistics("cifar100", 5e-5); }

}  // namespace
}  // namespace dnas::data
