// CIFAR binary reader: exact record layout, concatenation, malformed files, load_dataset.
#include "dnas/data/cifar_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "data/test_files.h"
#include "dnas/core/error.h"

namespace dnas::data {
namespace {

using test_files::TempDir;
using ::testing::HasSubstr;

constexpr int kPlane = 32 * 32;

// One record: label byte(s), then R plane filled with r, G with g, B with b; pixel 0 of R is
// `marker` so records can be told apart.
std::vector<uint8_t> record(std::vector<uint8_t> labels, uint8_t r, uint8_t g, uint8_t b, uint8_t marker) {
  std::vector<uint8_t> bytes = labels;
  bytes.resize(labels.size() + kPlane, r);
  bytes.resize(labels.size() + 2 * kPlane, g);
  bytes.resize(labels.size() + 3 * kPlane, b);
  bytes[labels.size()] = marker;
  return bytes;
}

std::vector<uint8_t> concat(const std::vector<std::vector<uint8_t>>& parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

template <class F>
void expect_error_containing(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected dnas::Error containing " << needle;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(needle));
  }
}

TEST(CifarReader, Cifar10ExactValuesAndPlaneOrder) {
  TempDir dir;
  const auto path = dir.file("data_batch_1.bin");
  test_files::write_bytes(path,
                          concat({record({3}, 10, 20, 30, 1), record({0}, 40, 50, 60, 2), record({9}, 70, 80, 90, 3)}));
  const auto set = read_cifar_binary({path}, CifarKind::Cifar10);
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_EQ(set.images.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({3, 0, 9}, torch::kInt64)));
  EXPECT_EQ(set.images[0][0][0][0].item<int>(), 1);  // marker: first R pixel
  EXPECT_EQ(set.images[0][0][0][1].item<int>(), 10);
  EXPECT_EQ(set.images[0][0][31][31].item<int>(), 10);  // R plane
  EXPECT_EQ(set.images[0][1][0][0].item<int>(), 20);    // G plane
  EXPECT_EQ(set.images[0][2][31][31].item<int>(), 30);  // B plane
  EXPECT_EQ(set.images[2][1][5][7].item<int>(), 80);
  EXPECT_EQ(set.images[2][0][0][0].item<int>(), 3);
}

TEST(CifarReader, Cifar100UsesFineLabel) {
  TempDir dir;
  const auto path = dir.file("train.bin");
  test_files::write_bytes(
      path, concat({record({19, 99}, 1, 2, 3, 0), record({0, 42}, 4, 5, 6, 0), record({7, 0}, 7, 8, 9, 0)}));
  const auto set = read_cifar_binary({path}, CifarKind::Cifar100);
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({99, 42, 0}, torch::kInt64)));
  EXPECT_EQ(set.images[1][0][3][3].item<int>(), 4);
  EXPECT_EQ(set.images[1][1][3][3].item<int>(), 5);
  EXPECT_EQ(set.images[1][2][3][3].item<int>(), 6);
}

TEST(CifarReader, FilesAreConcatenatedInOrder) {
  TempDir dir;
  test_files::write_bytes(dir.file("a.bin"), concat({record({1}, 0, 0, 0, 11), record({2}, 0, 0, 0, 12)}));
  test_files::write_bytes(dir.file("b.bin"), record({5}, 0, 0, 0, 13));
  const auto set = read_cifar_binary({dir.file("a.bin"), dir.file("b.bin")}, CifarKind::Cifar10);
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({1, 2, 5}, torch::kInt64)));
  EXPECT_EQ(set.images[2][0][0][0].item<int>(), 13);
  EXPECT_EQ(set.images[1][0][0][0].item<int>(), 12);
}

TEST(CifarReader, BadSizeNamesFileAndRecordSize) {
  TempDir dir;
  const auto path = dir.file("data_batch_1.bin");
  auto bytes = concat({record({1}, 0, 0, 0, 0), record({1}, 0, 0, 0, 0)});
  bytes.pop_back();
  test_files::write_bytes(path, bytes);
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar10); }, path);
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar10); }, "3073");
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar10); }, "python");
  // A CIFAR-10 file read as CIFAR-100 has the wrong record size.
  test_files::write_bytes(path, record({1}, 0, 0, 0, 0));
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar100); }, "3074");
  test_files::write_bytes(path, {});
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar10); }, path);
}

TEST(CifarReader, BadLabelNamesFile) {
  TempDir dir;
  const auto path = dir.file("bad_label.bin");
  test_files::write_bytes(path, concat({record({1}, 0, 0, 0, 0), record({10}, 0, 0, 0, 0)}));
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar10); }, path);
  test_files::write_bytes(path, record({20, 5}, 0, 0, 0, 0));  // coarse label out of range
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar100); }, path);
  test_files::write_bytes(path, record({2, 100}, 0, 0, 0, 0));  // fine label out of range
  expect_error_containing([&] { read_cifar_binary({path}, CifarKind::Cifar100); }, path);
}

TEST(CifarReader, LoadDatasetFindsBatchesDirectory) {
  TempDir dir;
  const auto sub = std::filesystem::path(dir.path()) / "cifar-10-batches-bin";
  std::filesystem::create_directories(sub);
  for (int i = 1; i <= 5; ++i)
    test_files::write_bytes((sub / ("data_batch_" + std::to_string(i) + ".bin")).string(),
                            record({static_cast<uint8_t>(i)}, 0, 0, 0, 0));
  test_files::write_bytes((sub / "test_batch.bin").string(),
                          concat({record({0}, 0, 0, 0, 0), record({9}, 0, 0, 0, 0)}));
  const auto d = load_dataset("cifar10", dir.path());
  EXPECT_EQ(d.info.channels, 3);
  EXPECT_TRUE(torch::equal(d.train.labels, torch::tensor({1, 2, 3, 4, 5}, torch::kInt64)));
  EXPECT_EQ(d.test.size(), 2);
  // A missing batch is reported by path.
  std::filesystem::remove(sub / "data_batch_4.bin");
  expect_error_containing([&] { load_dataset("cifar10", sub.string()); }, (sub / "data_batch_4.bin").string());
}

}  // namespace
}  // namespace dnas::data
