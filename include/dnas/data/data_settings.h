#pragma once
// The data settings that a search and a retrain share, and their keys.
#include <cstdint>
#include <string>

#include "dnas/core/config_keys.h"

namespace dnas::data {

struct DataSettings {
  std::string dataset = "fashion_mnist";  // data.dataset: a name known to data::dataset_info
  std::string root;                       // data.root: "" = the dataset's default location
  int64_t limit = 0;                      // data.limit: use only this many training images (0 = all)
  int64_t batch_size = 64;                // data.batch_size
  int64_t crop_padding = 4;               // data.crop_padding: random-crop padding (0 = off)
  bool flip = true;                       // data.flip: random horizontal flip
  int64_t image_size = 0;                 // data.image_size: imagenet's image side (0 = 224)
  bool svhn_extra = false;                // data.svhn_extra: add SVHN's extra_32x32.mat to train
  std::string bad_images = "error";       // data.bad_images: error | skip (undecodable image files)
};

// The keys of DataSettings; `batch_help` says which batches data.batch_size sizes.
void add_data_keys(core::KeyTable& table, DataSettings& data, const std::string& batch_help);

}  // namespace dnas::data
