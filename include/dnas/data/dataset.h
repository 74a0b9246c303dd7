#pragma once
// Image classification datasets held in memory as uint8 tensors, plus their metadata.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnas/data/data_settings.h"

namespace dnas::data {

struct ImageSet {
  torch::Tensor images;  // [N, C, H, W] uint8
  torch::Tensor labels;  // [N] int64
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct DatasetInfo {
  std::string name;
  int64_t channels = 0, height = 0, width = 0, classes = 0;
  std::vector<float> mean, std;  // per-channel normalisation of pixels scaled to [0, 1]
};

struct Dataset {
  DatasetInfo info;
  ImageSet train, test;
  int64_t skipped_images = 0;  // corrupt image files left out (data.bad_images = skip), already logged
};

// Loads data.dataset from data.root (or default_data_root) as data.image_size, data.svhn_extra and
// data.bad_images say. Layouts of root:
//   fashion_mnist/mnist: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (plain preferred).
//   cifar10: data_batch_1..5.bin + test_batch.bin (or root/cifar-10-batches-bin/).
//   cifar100: train.bin + test.bin (or root/cifar-100-binary/); the fine label is used.
//   svhn: train_32x32.mat + test_32x32.mat (+ extra_32x32.mat added to train with data.svhn_extra).
//   cinic10: {train,test}/<class>/*.png (valid/ is not read).
//   tiny_imagenet: wnids.txt, train/<wnid>/images/*.JPEG, val/images/*.JPEG + val/val_annotations.txt;
//     the test split is val (the test images have no labels).
//   imagenet: {train,val}/<class>/*.JPEG, every image resized (shorter side) and centre-cropped to
//     data.image_size; the classes are the folders found, the same in train and val.
// The image-folder datasets (cinic10, tiny_imagenet, imagenet) come in list_folder_dataset's fixed
// random order, train cut to data.limit; decoded sets over kMaxInMemoryBytes are refused with a
// hint (a retrain streams them with data.stream; a search takes a subset with data.limit).
Dataset load_dataset(const DataSettings& data);
constexpr int64_t kMaxInMemoryBytes = int64_t{48} << 30;
// The same with every other data setting at its default.
Dataset load_dataset(const std::string& name, const std::string& root);

// Shape, classes and normalisation of a known dataset; throws listing the known names.
// image_size: data.image_size (imagenet: the side, 0 = 224; others: 0 or their own size). For
// imagenet, classes is the nominal 1000; load_dataset's info has the number of class folders.
DatasetInfo dataset_info(const std::string& name, int64_t image_size = 0);

// Where the dataset is looked for when data.root is not set.
std::string default_data_root(const std::string& name);

}  // namespace dnas::data
