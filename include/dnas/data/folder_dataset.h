#pragma once
// The image files of the datasets stored as image folders (cinic10, tiny_imagenet, imagenet):
// both splits listed and checked against each other, each in a fixed random order.
#include <cstdint>
#include <string>

#include "dnas/data/data_settings.h"
#include "dnas/data/dataset.h"
#include "dnas/data/image_folder.h"

namespace dnas::data {

// The seed of the fixed order: the same for every run and every search or retrain seed.
constexpr uint64_t kFolderOrderSeed = 0x666f6c646572ULL;

struct FolderSplits {
  std::string train_dir, test_dir;  // named in logs and errors
  ImageFolderListing train, test;
};

bool is_folder_dataset(const std::string& name);

// Lists the train split and the test split (cinic10: test/; tiny_imagenet and imagenet: val/) of
// data.dataset under `root`, checks that they have the same classes (and the dataset's class
// count, except imagenet), and sets info.classes to the classes found. Each split's samples are
// put in a fixed random order (kFolderOrderSeed), so that a split without shuffling, data.limit
// and data.test_limit take images of every class rather than the first classes; the train split
// keeps its first data.limit samples when data.limit > 0.
FolderSplits list_folder_dataset(const DataSettings& data, const std::string& root, DatasetInfo& info);

}  // namespace dnas::data
