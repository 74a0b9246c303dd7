#include "dnas/data/folder_dataset.h"

#include <filesystem>

#include "dnas/core/error.h"
#include "dnas/data/rng.h"

namespace dnas::data {
namespace {

namespace fs = std::filesystem;

void put_in_fixed_order(ImageFolderListing& listing, uint64_t salt) {
  SplitMix64 rng(mix_seed(kFolderOrderSeed, salt));
  fisher_yates(listing.samples, rng);
}

}  // namespace

bool is_folder_dataset(const std::string& name) {
  return name == "cinic10" || name == "tiny_imagenet" || name == "imagenet";
}

FolderSplits list_folder_dataset(const DataSettings& data, const std::string& root, DatasetInfo& info) {
  const std::string& name = info.name;
  if (!is_folder_dataset(name)) fail(name + " is not stored as image folders", "data.dataset");
  const bool tiny = name == "tiny_imagenet";
  const std::string train_split = "train", test_split = name == "cinic10" ? "test" : "val";
  FolderSplits s;
  s.train_dir = (fs::path(root) / train_split).string();
  s.test_dir = (fs::path(root) / test_split).string();
  s.train = tiny ? list_tiny_imagenet(root, train_split) : list_image_folder(s.train_dir);
  s.test = tiny ? list_tiny_imagenet(root, test_split) : list_image_folder(s.test_dir);
  if (s.train.classes != s.test.classes)
    fail(train_split + " has " + std::to_string(s.train.classes.size()) + " class folders and " + test_split + " " +
             std::to_string(s.test.classes.size()) + ", with different names",
         root, "both splits need the same class folders");
  if (name != "imagenet" && static_cast<int64_t>(s.train.classes.size()) != info.classes)
    fail(name + " has " + std::to_string(info.classes) + " classes, " + std::to_string(s.train.classes.size()) +
             " were found",
         s.train_dir, "check data.root and data.dataset");
  info.classes = static_cast<int64_t>(s.train.classes.size());
  put_in_fixed_order(s.train, 1);
  put_in_fixed_order(s.test, 2);
  if (data.limit > 0 && data.limit < static_cast<int64_t>(s.train.samples.size()))
    s.train.samples.resize(static_cast<size_t>(data.limit));
  return s;
}

}  // namespace dnas::data
