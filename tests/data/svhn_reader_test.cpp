// SVHN .mat files written by scipy.io.savemat (format 5) from Fashion-MNIST images: labels
// (10 -> 0), pixel orientation against the source images, load_dataset with and without
// extra_32x32.mat, malformed files.
#include "dnas/data/svhn_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/error_of.h"
#include "data/image_test_data.h"
#include "data/test_files.h"
#include "dnas/data/idx_reader.h"

namespace dnas::data {
namespace {

namespace fs = std::filesystem;
using dnas::testing::error_of;
using image_test_data::fixture;
using ::testing::HasSubstr;

// Fashion-MNIST train image of sources.txt's first index for `file` (image n channel k is
// image first + 3 n + k): [count, 1, 28, 28].
torch::Tensor source_images(const std::string& file) {
  std::ifstream in(fixture("svhn/sources.txt"));
  std::map<std::string, int64_t> first;
  for (std::string name; in >> name;) in >> first[name];
  static const torch::Tensor fmnist = read_idx_images("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  return fmnist.slice(0, first.at(file));
}

// Every image n, channel k of `set` is the zero-padded source image 3 n + k, upright.
void expect_source_pixels(const ImageSet& set, const std::string& file) {
  const auto src = source_images(file);
  for (int64_t n = 0; n < set.size(); ++n)
    for (int64_t k = 0; k < 3; ++k) {
      const auto img = set.images[n][k];  // [32, 32]
      ASSERT_TRUE(torch::equal(img.slice(0, 2, 30).slice(1, 2, 30), src[3 * n + k][0])) << file << " " << n << " " << k;
      EXPECT_EQ(img.sum().item<int64_t>(), src[3 * n + k].sum().item<int64_t>());  // the border is zero
    }
}

TEST(SvhnReader, ReadsImagesUprightAndMapsLabelTenToZero) {
  const auto set = read_svhn_mat(fixture("svhn/train_32x32.mat"));  // y double
  EXPECT_EQ(set.images.sizes(), (std::vector<int64_t>{12, 3, 32, 32}));
  EXPECT_EQ(set.images.dtype(), torch::kUInt8);
  // y = n % 10 + 1, so image 9 is labelled 10, the digit 0.
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2}, torch::kInt64)));
  expect_source_pixels(set, "train_32x32.mat");
  const auto test = read_svhn_mat(fixture("svhn/test_32x32.mat"));  // y uint8
  EXPECT_TRUE(torch::equal(test.labels, torch::tensor({1, 2, 3, 4, 5}, torch::kInt64)));
  expect_source_pixels(test, "test_32x32.mat");
}

TEST(SvhnReader, LoadDatasetAddsExtraOnlyWhenAsked) {
  DataSettings s;
  s.dataset = "svhn";
  s.root = fixture("svhn");
  const auto d = load_dataset(s);
  EXPECT_EQ(d.info.classes, 10);
  EXPECT_EQ(d.train.size(), 12);
  EXPECT_EQ(d.test.size(), 5);
  s.svhn_extra = true;
  const auto e = load_dataset(s);  // extra_32x32.mat is written compressed
  ASSERT_EQ(e.train.size(), 15);
  EXPECT_TRUE(torch::equal(e.train.images.slice(0, 0, 12), d.train.images));
  expect_source_pixels({e.train.images.slice(0, 12), e.train.labels.slice(0, 12)}, "extra_32x32.mat");
  EXPECT_TRUE(torch::equal(e.train.labels.slice(0, 12), torch::tensor({1, 2, 3}, torch::kInt64)));
}

TEST(SvhnReader, MalformedFilesAreErrorsNamingFileAndVariable) {
  struct Case {
    const char* file;
    const char* variable;
    const char* says;
  };
  for (const Case c :
       {Case{"bad_shape.mat", "variable X", "32x32x1x4"}, Case{"bad_missing_y.mat", "'y'", "not found"},
        Case{"bad_count.mat", "variable y", "3 labels but X has 4"}, Case{"bad_label.mat", "variable y", "label 11"},
        Case{"bad_x_double.mat", "variable X", "uint8"}}) {
    const auto path = fixture(std::string("svhn/") + c.file);
    const auto what = error_of([&] { read_svhn_mat(path); });
    EXPECT_THAT(what, HasSubstr(path)) << c.file;
    EXPECT_THAT(what, HasSubstr(c.variable)) << c.file;
    EXPECT_THAT(what, HasSubstr(c.says)) << c.file;
  }
  const auto not_mat = fixture("svhn/bad_not_mat.mat");
  EXPECT_THAT(error_of([&] { read_svhn_mat(not_mat); }), HasSubstr(not_mat));
  test_files::TempDir dir;
  EXPECT_THAT(error_of([&] { load_dataset("svhn", dir.path()); }), HasSubstr(dir.file("train_32x32.mat")));
  fs::copy_file(fixture("svhn/train_32x32.mat"), dir.file("train_32x32.mat"));
  fs::copy_file(fixture("svhn/test_32x32.mat"), dir.file("test_32x32.mat"));
  DataSettings s;
  s.dataset = "svhn";
  s.root = dir.path();
  s.svhn_extra = true;
  EXPECT_THAT(error_of([&] { load_dataset(s); }), HasSubstr(dir.file("extra_32x32.mat")));
}

}  // namespace
}  // namespace dnas::data
