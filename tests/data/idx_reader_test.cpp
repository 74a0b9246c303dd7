// IDX reader: plain and gzip round trips, malformed files, and the real Fashion-MNIST.
#include "dnas/data/idx_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "data/test_files.h"
#include "dnas/core/error.h"
#include "dnas/data/dataset.h"

namespace dnas::data {
namespace {

using ::testing::HasSubstr;
using test_files::TempDir;

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
  test_files::write_gzip(dir.file("train-labels-idx1-ubyte.gz"), label_file_bytes(std::vector<uint8_t>(train_labels, 4)));
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
  expect_error_containing([&] { dataset_info("imagenet"); }, "cifar100");
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

}  // namespace
}  // namespace dnas::data
