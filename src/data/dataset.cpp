#include "dnas/data/dataset.h"

#include <torch/torch.h>

#include <filesystem>

#include "dnas/core/error.h"
#include "dnas/data/cifar_reader.h"
#include "dnas/data/idx_reader.h"

namespace dnas::data {
namespace {

namespace fs = std::filesystem;

const char* const kKnownNames = "fashion_mnist, mnist, cifar10, cifar100";

bool is_mnist_like(const std::string& name) { return name == "fashion_mnist" || name == "mnist"; }

std::string missing_hint(const std::string& name) {
  if (name == "fashion_mnist")
    return "apt-get install dataset-fashion-mnist, or set data.root to a directory with the IDX files";
  if (name == "mnist") return "download the four MNIST IDX files yourself and set data.root to their directory";
  return "download the binary version of " + std::string(name == "cifar10" ? "CIFAR-10" : "CIFAR-100") +
         " yourself, unpack it and set data.root to its directory";
}

// root/stem, or root/stem.gz when only the compressed file exists.
std::string find_idx_file(const std::string& root, const std::string& stem, const std::string& name) {
  const fs::path plain = fs::path(root) / stem;
  if (fs::is_regular_file(plain)) return plain.string();
  const fs::path gz = fs::path(root) / (stem + ".gz");
  if (fs::is_regular_file(gz)) return gz.string();
  fail("dataset file not found (nor its .gz)", plain.string(), missing_hint(name));
}

// Images and labels of one IDX pair, checked against each other and against the dataset shape.
ImageSet load_idx_pair(const std::string& root, const std::string& prefix, const DatasetInfo& info) {
  const std::string images_path = find_idx_file(root, prefix + "-images-idx3-ubyte", info.name);
  const std::string labels_path = find_idx_file(root, prefix + "-labels-idx1-ubyte", info.name);
  ImageSet set{read_idx_images(images_path), read_idx_labels(labels_path, info.classes)};
  if (set.images.size(0) != set.labels.size(0))
    fail("image/label count mismatch: " + std::to_string(set.images.size(0)) + " images in " + images_path + " but " +
             std::to_string(set.labels.size(0)) + " labels in " + labels_path,
         images_path, "the two files come from different downloads");
  if (set.images.size(2) != info.height || set.images.size(3) != info.width)
    fail("images are " + std::to_string(set.images.size(2)) + "x" + std::to_string(set.images.size(3)) + ", " +
             info.name + " expects " + std::to_string(info.height) + "x" + std::to_string(info.width),
         images_path, "check data.dataset and data.root");
  return set;
}

// The directory holding `marker`: root itself or root/subdir.
std::string find_cifar_dir(const std::string& root, const std::string& subdir, const std::string& marker,
                           const std::string& name) {
  if (fs::is_regular_file(fs::path(root) / marker)) return root;
  if (fs::is_regular_file(fs::path(root) / subdir / marker)) return (fs::path(root) / subdir).string();
  fail("dataset file not found (nor in " + (fs::path(root) / subdir).string() + ")", (fs::path(root) / marker).string(),
       missing_hint(name));
}

std::vector<std::string> existing_files(const std::string& dir, const std::vector<std::string>& names,
                                        const std::string& name) {
  std::vector<std::string> paths;
  for (const auto& n : names) {
    const fs::path p = fs::path(dir) / n;
    if (!fs::is_regular_file(p)) fail("dataset file not found", p.string(), missing_hint(name));
    paths.push_back(p.string());
  }
  return paths;
}

}  // namespace

DatasetInfo dataset_info(const std::string& name) {
  if (name == "fashion_mnist") return {name, 1, 28, 28, 10, {0.2860f}, {0.3530f}};
  if (name == "mnist") return {name, 1, 28, 28, 10, {0.1307f}, {0.3081f}};
  if (name == "cifar10")
    return {name, 3, 32, 32, 10, {0.49139968f, 0.48215827f, 0.44653124f}, {0.24703233f, 0.24348505f, 0.26158768f}};
  if (name == "cifar100") return {name, 3, 32, 32, 100, {0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}};
  fail("unknown dataset '" + name + "'", "data.dataset", std::string("known datasets: ") + kKnownNames);
}

std::string default_data_root(const std::string& name) {
  if (name == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  if (name == "mnist") return "/usr/share/datasets/mnist";
  if (name == "cifar10") return "data/cifar-10-batches-bin";
  if (name == "cifar100") return "data/cifar-100-binary";
  fail("unknown dataset '" + name + "'", "data.dataset", std::string("known datasets: ") + kKnownNames);
}

Dataset load_dataset(const std::string& name, const std::string& root) {
  Dataset d;
  d.info = dataset_info(name);
  if (is_mnist_like(name)) {
    d.train = load_idx_pair(root, "train", d.info);
    d.test = load_idx_pair(root, "t10k", d.info);
  } else if (name == "cifar10") {
    const auto dir = find_cifar_dir(root, "cifar-10-batches-bin", "data_batch_1.bin", name);
    d.train = read_cifar_binary(
        existing_files(
            dir, {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
            name),
        CifarKind::Cifar10);
    d.test = read_cifar_binary(existing_files(dir, {"test_batch.bin"}, name), CifarKind::Cifar10);
  } else {  // cifar100
    const auto dir = find_cifar_dir(root, "cifar-100-binary", "train.bin", name);
    d.train = read_cifar_binary(existing_files(dir, {"train.bin"}, name), CifarKind::Cifar100);
    d.test = read_cifar_binary(existing_files(dir, {"test.bin"}, name), CifarKind::Cifar100);
  }
  return d;
}

}  // namespace dnas::data
