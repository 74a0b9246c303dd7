#pragma once
// Datasets stored as image files: listing them as (path, label) samples, and decoding a listing
// into an in-memory ImageSet.
//   Class folders (torchvision ImageFolder): <split_dir>/<class>/<image>; classes are the folder
//     names sorted (label = position), images the files ending in .jpg, .jpeg or .png (any case),
//     sorted by name. Other files (README, .txt, boxes) are ignored; a file with an image
//     extension that does not decode is a corrupt image.
//   Tiny ImageNet: <root>/wnids.txt, <root>/train/<wnid>/images/*.JPEG, <root>/val/images/*.JPEG
//     with <root>/val/val_annotations.txt ("file<TAB>wnid<TAB>bbox..."); classes are the wnids
//     sorted. The test split has no labels, so the val split serves as the test set.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnas/data/dataset.h"

namespace dnas::data {

// One image file and its class index.
struct ImageFile {
  std::string path;
  int64_t label = 0;
};

struct ImageFolderListing {
  std::vector<std::string> classes;  // class names; label k is classes[k]
  std::vector<ImageFile> samples;    // by class, then file name
};

// The class folders of one split. Errors (dnas::Error naming the folder): a missing split
// folder, no class folders, a class folder without image files.
ImageFolderListing list_image_folder(const std::string& split_dir);

// split: "train" | "val". Errors name the file or folder: a missing wnids.txt, split or class
// folder, a class without images, an annotation line that is malformed or names an unknown wnid
// or a missing file, a val image without annotation.
ImageFolderListing list_tiny_imagenet(const std::string& root, const std::string& split);

// What to do with an image file that does not decode (data.bad_images).
enum class BadImages { Error, Skip };
// "error" | "skip"; anything else is an error naming `where`.
BadImages parse_bad_images(const std::string& value, const std::string& where);

struct ImageLoadOptions {
  int64_t height = 0, width = 0;  // output size
  // false: every image must already be height x width (an image of another size is an error
  // naming it); true: shorter side resized to the output's (antialiased bilinear, as PIL's
  // resize), then the centre crop (square outputs only).
  bool resize_and_crop = false;
  BadImages bad_images = BadImages::Error;
  int threads = 0;  // decoding threads (0 = hardware threads, at most 8)
};

struct LoadedImages {
  ImageSet set;                      // images [N, 3, height, width] uint8, labels [N] int64
  std::vector<std::string> skipped;  // files left out (bad_images = Skip), in listing order
};

// Decodes every sample of `listing` in listing order (on several threads). Corrupt files: an
// ImageError naming the file, or with BadImages::Skip left out, counted and logged (spdlog warning
// with the count and the first few paths). Every file being corrupt is an error either way.
LoadedImages load_images(const ImageFolderListing& listing, const ImageLoadOptions& options);

}  // namespace dnas::data
