// Image-folder datasets: listing order and labels (ImageNet class folders, CINIC-10, Tiny
// ImageNet), decoded pixels, ImageNet's resize + centre crop against PIL/torchvision, bad layouts
// and corrupt files (data.bad_images).
#include "dnas/data/image_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "common/error_of.h"
#include "data/image_test_data.h"
#include "data/test_files.h"
#include "dnas/data/folder_dataset.h"
#include "dnas/data/image_codec.h"

namespace dnas::data {
namespace {

namespace fs = std::filesystem;
using dnas::testing::error_of;
using image_test_data::fixture;
using image_test_data::read_bytes;
using test_files::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A writable copy of fixture folder `name` in `dir`.
std::string copy_fixture(const TempDir& dir, const std::string& name) {
  fs::copy(fixture(name), dir.file(name), fs::copy_options::recursive);
  return dir.file(name);
}

// The decoded file as [3, H, W] uint8, the reference for the loaders' pixels.
torch::Tensor decoded_chw(const std::string& path) {
  const auto bytes = read_file_bytes(path);
  auto d = decode_image(bytes.data(), bytes.size(), path);
  return torch::from_blob(d.pixels.data(), {d.height, d.width, 3}, torch::kUInt8).permute({2, 0, 1}).clone();
}

std::string parent_name(const std::string& path, int up = 1) {
  fs::path p(path);
  for (int i = 0; i < up; ++i) p = p.parent_path();
  return p.filename().string();
}

TEST(ImageFolder, ListsSortedClassesAndFilesIgnoringOtherExtensions) {
  const auto listing = list_image_folder(fixture("imagenet/train"));
  EXPECT_THAT(listing.classes, ElementsAre("n01", "n02", "n03"));  // created as n03, n01, n02
  ASSERT_EQ(listing.samples.size(), 9u);                           // README.txt in n01 is not listed
  for (size_t i = 0; i < 9; ++i) {
    const auto& s = listing.samples[i];
    EXPECT_EQ(s.label, static_cast<int64_t>(i / 3));
    EXPECT_EQ(parent_name(s.path), listing.classes[s.label]);
    EXPECT_EQ(fs::path(s.path).filename().string(), listing.classes[s.label] + "_" + std::to_string(i % 3) + ".JPEG");
  }
}

TEST(ImageFolder, ImagenetIsResizedAndCroppedLikeTorchvisionOnPil) {
  DataSettings s;
  s.dataset = "imagenet";
  s.root = fixture("imagenet");
  s.image_size = 24;  // the references of image_data.py
  const auto d = load_dataset(s);
  EXPECT_EQ(d.info.classes, 3);
  EXPECT_EQ(d.info.height, 24);
  ASSERT_EQ(d.train.size(), 9);
  ASSERT_EQ(d.test.size(), 3);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{9, 3, 24, 24}));
  EXPECT_EQ(std::get<0>(at::_unique(d.test.labels)).numel(), 3);
  int worst = 0;
  DatasetInfo info = dataset_info("imagenet", 24);
  const FolderSplits splits = list_folder_dataset(s, s.root, info);
  for (const auto& [split, set] : {std::pair{std::string("train"), d.train}, std::pair{std::string("val"), d.test}}) {
    const auto& listing = split == "train" ? splits.train : splits.test;
    for (size_t i = 0; i < listing.samples.size(); ++i) {
      const auto& path = listing.samples[i].path;
      const auto ref_bytes = read_bytes(fixture("imagenet_ref24/" + split + "/" + parent_name(path) + "/" +
                                                fs::path(path).filename().string() + ".rgb"));
      auto ref =
          torch::from_blob(const_cast<uint8_t*>(ref_bytes.data()), {24, 24, 3}, torch::kUInt8).permute({2, 0, 1});
      const auto diff = (set.images[i].to(torch::kInt) - ref.to(torch::kInt)).abs().max().item<int>();
      worst = std::max(worst, diff);
      EXPECT_EQ(set.labels[i].item<int64_t>(), listing.samples[i].label);
    }
  }
  // torch's antialiased bilinear is PIL's filter in floating point; PIL rounds in fixed point.
  std::cout << "[ max |dnas - PIL resize+crop| ] " << worst << "\n";
  EXPECT_LE(worst, 2);
}

TEST(ImageFolder, Cinic10LoadsTrainAndTestWithSortedClasses) {
  const auto d = load_dataset("cinic10", fixture("cinic10"));
  EXPECT_EQ(d.info.classes, 10);
  ASSERT_EQ(d.train.size(), 20);
  ASSERT_EQ(d.test.size(), 10);  // test/, not valid/
  EXPECT_EQ(d.skipped_images, 0);
  DataSettings s;
  s.dataset = "cinic10";
  DatasetInfo info = dataset_info("cinic10");
  const auto listing = list_folder_dataset(s, fixture("cinic10"), info).train;
  EXPECT_EQ(listing.classes.front(), "airplane");
  EXPECT_EQ(listing.classes.back(), "truck");
  for (int64_t i = 0; i < 20; ++i) {
    const auto& path = listing.samples[i].path;
    EXPECT_EQ(d.train.labels[i].item<int64_t>(), listing.samples[i].label);
    EXPECT_EQ(parent_name(path), listing.classes[listing.samples[i].label]);
    EXPECT_TRUE(torch::equal(d.train.images[i], decoded_chw(path))) << path;
  }
}

TEST(ImageFolder, TinyImagenetTrainAndValLabels) {
  const auto train = list_tiny_imagenet(fixture("tiny"), "train");
  ASSERT_EQ(train.classes.size(), 200u);
  EXPECT_TRUE(std::is_sorted(train.classes.begin(), train.classes.end()));  // wnids.txt is not sorted
  ASSERT_EQ(train.samples.size(), 200u);
  for (const auto& s : train.samples) EXPECT_EQ(parent_name(s.path, 2), train.classes[s.label]);

  const auto val = list_tiny_imagenet(fixture("tiny"), "val");
  EXPECT_EQ(val.classes, train.classes);
  ASSERT_EQ(val.samples.size(), 12u);
  std::ifstream notes(fixture("tiny/val/val_annotations.txt"));
  std::map<std::string, std::string> wnid_of;
  for (std::string file, wnid, rest; notes >> file >> wnid && std::getline(notes, rest);) wnid_of[file] = wnid;
  for (const auto& s : val.samples) EXPECT_EQ(val.classes[s.label], wnid_of.at(fs::path(s.path).filename().string()));

  const auto d = load_dataset("tiny_imagenet", fixture("tiny"));
  EXPECT_EQ(d.info.classes, 200);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{200, 3, 64, 64}));
  EXPECT_EQ(d.test.images.sizes(), (std::vector<int64_t>{12, 3, 64, 64}));
  DataSettings s;
  s.dataset = "tiny_imagenet";
  DatasetInfo info = dataset_info("tiny_imagenet");
  const auto ordered = list_folder_dataset(s, fixture("tiny"), info).test;
  EXPECT_TRUE(torch::equal(d.test.images[5], decoded_chw(ordered.samples[5].path)));
  EXPECT_EQ(d.test.labels[5].item<int64_t>(), ordered.samples[5].label);
  EXPECT_THAT(error_of([] { list_tiny_imagenet(fixture("tiny"), "test"); }), HasSubstr("no labels"));
}

// The fixed order: a permutation of the listing, the same on every call, mixing the classes, and
// data.limit keeps its first images.
TEST(ImageFolder, FolderDatasetsComeInOneFixedRandomOrder) {
  DataSettings s;
  s.dataset = "cinic10";
  DatasetInfo info = dataset_info("cinic10");
  const auto a = list_folder_dataset(s, fixture("cinic10"), info);
  const auto b = list_folder_dataset(s, fixture("cinic10"), info);
  const auto sorted = list_image_folder(fixture("cinic10/train"));
  std::vector<std::string> paths_a, paths_b, paths_sorted;
  for (const auto& f : a.train.samples) paths_a.push_back(f.path);
  for (const auto& f : b.train.samples) paths_b.push_back(f.path);
  for (const auto& f : sorted.samples) paths_sorted.push_back(f.path);
  EXPECT_EQ(paths_a, paths_b);
  EXPECT_NE(paths_a, paths_sorted);
  std::vector<std::string> again = paths_a;
  std::sort(again.begin(), again.end());
  std::sort(paths_sorted.begin(), paths_sorted.end());
  EXPECT_EQ(again, paths_sorted);
  std::set<int64_t> first_classes;
  for (size_t i = 0; i < 10; ++i) first_classes.insert(a.train.samples[i].label);
  EXPECT_GT(first_classes.size(), 2u) << "the first images are not one or two classes";
  s.limit = 7;
  const auto limited = list_folder_dataset(s, fixture("cinic10"), info);
  ASSERT_EQ(limited.train.samples.size(), 7u);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(limited.train.samples[i].path, paths_a[i]);
  EXPECT_EQ(limited.test.samples.size(), a.test.samples.size());
  s.root = fixture("cinic10");
  const auto d = load_dataset(s);
  ASSERT_EQ(d.train.size(), 7);
  for (int64_t i = 0; i < 7; ++i) EXPECT_TRUE(torch::equal(d.train.images[i], decoded_chw(paths_a[i])));
}

TEST(ImageFolder, BadLayoutsAreErrorsNamingTheFolder) {
  TempDir dir;
  const auto root = copy_fixture(dir, "imagenet");
  fs::create_directories(root + "/train/n04");
  EXPECT_THAT(error_of([&] { list_image_folder(root + "/train"); }), HasSubstr(root + "/train/n04"));
  fs::remove(root + "/train/n04");
  fs::create_directories(root + "/val/n04");  // one more class in val than in train
  std::ofstream(root + "/val/n04/a.png") << "x";
  EXPECT_THAT(error_of([&] { load_dataset("imagenet", root); }), HasSubstr("same class folders"));
  fs::remove_all(root + "/val");
  EXPECT_THAT(error_of([&] { load_dataset("imagenet", root); }), HasSubstr(root + "/val"));
  fs::create_directories(dir.file("flat"));
  std::ofstream(dir.file("flat/a.jpg")) << "x";
  EXPECT_THAT(error_of([&] { list_image_folder(dir.file("flat")); }), HasSubstr("no class folders"));

  const auto tiny = copy_fixture(dir, "tiny");
  std::ofstream(tiny + "/val/val_annotations.txt", std::ios::app) << "val_0.JPEG\tn99999999\t0\t0\t1\t1\n";
  const auto what = error_of([&] { list_tiny_imagenet(tiny, "val"); });
  EXPECT_THAT(what, HasSubstr(tiny + "/val/val_annotations.txt:13"));
  EXPECT_THAT(what, HasSubstr("n99999999"));
  fs::remove(tiny + "/wnids.txt");
  EXPECT_THAT(error_of([&] { list_tiny_imagenet(tiny, "train"); }), HasSubstr(tiny + "/wnids.txt"));
}

TEST(ImageFolder, CorruptImagesStopLoadingOrAreSkippedAndCounted) {
  TempDir dir;
  const auto root = copy_fixture(dir, "cinic10");
  DataSettings s;
  s.dataset = "cinic10";
  s.root = root;
  DatasetInfo info = dataset_info("cinic10");
  const auto listing = list_folder_dataset(s, root, info).train;  // the order load_dataset decodes
  const std::string cut = listing.samples[3].path, junk = listing.samples[10].path;
  auto bytes = read_bytes(cut);
  bytes.resize(bytes.size() / 2);
  test_files::write_bytes(cut, bytes);
  std::ofstream(junk, std::ios::trunc) << "not a png";

  EXPECT_THAT(error_of([&] { load_dataset(s); }), HasSubstr(cut));  // the first in listing order
  s.bad_images = "skip";
  const auto d = load_dataset(s);
  EXPECT_EQ(d.skipped_images, 2);
  ASSERT_EQ(d.train.size(), 18);
  EXPECT_EQ(d.test.size(), 10);
  // Order kept around the holes: sample 4 of the listing is now image 3.
  EXPECT_TRUE(torch::equal(d.train.images[3], decoded_chw(listing.samples[4].path)));
  EXPECT_EQ(d.train.labels[3].item<int64_t>(), listing.samples[4].label);

  ImageLoadOptions o;
  o.height = o.width = 32;
  o.bad_images = BadImages::Skip;
  EXPECT_THAT(load_images(listing, o).skipped, ElementsAre(cut, junk));

  s.bad_images = "ignore";
  EXPECT_THAT(error_of([&] { load_dataset(s); }), HasSubstr("data.bad_images"));
}

TEST(ImageFolder, AnImageOfAnotherSizeIsAnErrorEvenWhenSkipping) {
  TempDir dir;
  const auto root = copy_fixture(dir, "cinic10");
  const auto odd = root + "/test/cat/cat_0.png";
  fs::copy_file(fixture("codec/rgb.png"), odd, fs::copy_options::overwrite_existing);  // 40x56
  DataSettings s;
  s.dataset = "cinic10";
  s.root = root;
  s.bad_images = "skip";
  const auto what = error_of([&] { load_dataset(s); });
  EXPECT_THAT(what, HasSubstr(odd));
  EXPECT_THAT(what, HasSubstr("40x56"));
}

TEST(ImageFolder, DecodingThreadsDoNotChangeTheResult) {
  const auto listing = list_tiny_imagenet(fixture("tiny"), "train");
  ImageLoadOptions o;
  o.height = o.width = 64;
  o.threads = 1;
  const auto one = load_images(listing, o);
  o.threads = 5;
  const auto five = load_images(listing, o);
  EXPECT_TRUE(torch::equal(one.set.images, five.set.images));
  EXPECT_TRUE(torch::equal(one.set.labels, five.set.labels));
}

TEST(ImageFolder, ImageSizeAppliesToImagenetOnly) {
  EXPECT_EQ(dataset_info("imagenet").height, 224);
  EXPECT_EQ(dataset_info("imagenet", 64).width, 64);
  EXPECT_EQ(dataset_info("cinic10", 32).height, 32);
  EXPECT_THAT(error_of([] { dataset_info("cinic10", 64); }), HasSubstr("data.image_size"));
  EXPECT_EQ(dataset_info("tiny_imagenet").classes, 200);
  EXPECT_EQ(dataset_info("svhn").mean.size(), 3u);
}

}  // namespace
}  // namespace dnas::data
