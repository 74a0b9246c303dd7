#pragma once
// Image classification datasets held in memory as uint8 tensors, plus their metadata.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

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
};

// name: "fashion_mnist" | "mnist" | "cifar10" | "cifar100"; root: the directory with its files.
//   fashion_mnist/mnist: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (plain preferred).
//   cifar10: data_batch_1..5.bin + test_batch.bin (or root/cifar-10-batches-bin/).
//   cifar100: train.bin + test.bin (or root/cifar-100-binary/); the fine label is used.
Dataset load_dataset(const std::string& name, const std::string& root);

// Shape, classes and normalisation of a known dataset; throws listing the known names.
DatasetInfo dataset_info(const std::string& name);

// Where the dataset is looked for when data.root is not set.
std::string default_data_root(const std::string& name);

}  // namespace dnas::data
