#include "dnas/data/image_folder.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "dnas/core/error.h"
#include "dnas/data/image_codec.h"

namespace dnas::data {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSkippedPathsLogged = 5;  // paths named in the "left out" warning
constexpr int kMaxDecodeThreads = 8;

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Image files under `dir` at any depth, ordered as torchvision's sorted(os.walk): by folder
// path, then by file name.
std::vector<std::string> image_files_under(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> found;  // (folder, file name)
  for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink))
    if (e.is_regular_file() && is_image_file(e.path()))
      found.emplace_back(e.path().parent_path().string(), e.path().filename().string());
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (const auto& [folder, file] : found) paths.push_back((fs::path(folder) / file).string());
  return paths;
}

std::vector<std::string> sorted_subfolders(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void add_class_images(ImageFolderListing& listing, const fs::path& dir, int64_t label) {
  const auto files = image_files_under(dir);
  if (files.empty())
    fail("class folder without image files (.jpg, .jpeg, .png)", dir.string(),
         "remove the folder or add its images: an empty class would shift the labels of every later class");
  for (const auto& f : files) listing.samples.push_back({f, label});
}

std::string trimmed(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

const char* const kTinyHint =
    "unzip tiny-imagenet-200.zip (http://cs231n.stanford.edu/tiny-imagenet-200.zip) and set data.root to its "
    "tiny-imagenet-200 folder";

std::vector<std::string> read_wnids(const fs::path& root) {
  const fs::path path = root / "wnids.txt";
  std::ifstream in(path);
  if (!in) fail("Tiny ImageNet class list not found", path.string(), kTinyHint);
  std::vector<std::string> wnids;
  for (std::string line; std::getline(in, line);)
    if (!trimmed(line).empty()) wnids.push_back(trimmed(line));
  std::sort(wnids.begin(), wnids.end());
  if (wnids.empty()) fail("no class names in the Tiny ImageNet class list", path.string(), kTinyHint);
  const auto dup = std::adjacent_find(wnids.begin(), wnids.end());
  if (dup != wnids.end()) fail("class '" + *dup + "' is listed twice", path.string(), kTinyHint);
  return wnids;
}

// val/images/* labelled by val/val_annotations.txt, sorted by file name.
void add_tiny_val(ImageFolderListing& listing, const fs::path& root) {
  const fs::path images = root / "val" / "images", notes = root / "val" / "val_annotations.txt";
  if (!fs::is_directory(images)) fail("Tiny ImageNet val images not found", images.string(), kTinyHint);
  std::ifstream in(notes);
  if (!in) fail("Tiny ImageNet val annotations not found", notes.string(), kTinyHint);
  std::map<std::string, int64_t> label_of;  // file name -> label
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (trimmed(line).empty()) continue;
    std::istringstream fields(line);
    std::string file, wnid;
    const std::string where = notes.string() + ":" + std::to_string(line_no);
    if (!std::getline(fields, file, '\t') || !std::getline(fields, wnid, '\t') || trimmed(wnid).empty())
      fail("malformed annotation line '" + abbreviated(line, 80) + "'", where,
           "each line is file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1");
    wnid = trimmed(wnid);
    const auto it = std::lower_bound(listing.classes.begin(), listing.classes.end(), wnid);
    if (it == listing.classes.end() || *it != wnid)
      fail("annotation names class '" + wnid + "', which wnids.txt does not list", where, kTinyHint);
    if (!fs::is_regular_file(images / file))
      fail("annotated image not found: " + (images / file).string(), where, kTinyHint);
    if (!label_of.emplace(file, it - listing.classes.begin()).second)
      fail("image '" + file + "' is annotated twice", where, "the annotation file is damaged; unzip it again");
  }
  for (const auto& path : image_files_under(images))
    if (!label_of.count(fs::path(path).filename().string()))
      fail("val image without annotation", path, "val_annotations.txt must label every file in val/images");
  if (label_of.empty()) fail("no val images annotated", notes.string(), kTinyHint);
  for (const auto& [file, label] : label_of) listing.samples.push_back({(images / file).string(), label});
}

// Copies an HWC RGB image into one CHW slot of the output: [3, height, width].
void store_chw(const DecodedImage& d, uint8_t* out) {
  const int64_t plane = d.height * d.width;
  for (int64_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) out[c * plane + i] = d.pixels[3 * i + c];
}

// torchvision's Resize(side) then CenterCrop(side) on a PIL image: the shorter side becomes `side`
// (the longer one int(side * long / short)), antialiased bilinear; the crop's offset is
// Python's round((size - side) / 2). Writes [3, side, side] to out.
void resize_and_crop(const DecodedImage& d, int64_t side, uint8_t* out) {
  const bool wide = d.width > d.height;
  const int64_t shorter = wide ? d.height : d.width, longer = wide ? d.width : d.height;
  const auto scaled = static_cast<int64_t>(static_cast<double>(side) * longer / shorter);
  const int64_t oh = wide ? side : scaled, ow = wide ? scaled : side;
  auto img = torch::from_blob(const_cast<uint8_t*>(d.pixels.data()), {1, d.height, d.width, 3}, torch::kUInt8)
                 .permute({0, 3, 1, 2})
                 .to(torch::kFloat);  // [1, 3, h, w]
  namespace F = torch::nn::functional;
  auto resized = F::interpolate(img, F::InterpolateFuncOptions()
                                         .size(std::vector<int64_t>{oh, ow})
                                         .mode(torch::kBilinear)
                                         .align_corners(false)
                                         .antialias(true));  // [1, 3, oh, ow]
  const auto top = static_cast<int64_t>(std::nearbyint((oh - side) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint((ow - side) / 2.0));
  auto crop = resized
                  .index({0, torch::indexing::Slice(), torch::indexing::Slice(top, top + side),
                          torch::indexing::Slice(left, left + side)})
                  .round()
                  .clamp(0, 255)
                  .to(torch::kUInt8)
                  .contiguous();  // [3, side, side]
  std::memcpy(out, crop.data_ptr<uint8_t>(), static_cast<size_t>(3 * side * side));
}

}  // namespace

ImageFolderListing list_image_folder(const std::string& split_dir) {
  if (!fs::is_directory(split_dir))
    fail("dataset split folder not found", split_dir,
         "expected <data.root>/<split>/<class>/<image>; check data.root and that the split was unpacked");
  ImageFolderListing listing;
  listing.classes = sorted_subfolders(split_dir);
  if (listing.classes.empty())
    fail("no class folders", split_dir, "the images must sit in one folder per class: <split>/<class>/<image>");
  for (size_t k = 0; k < listing.classes.size(); ++k)
    add_class_images(listing, fs::path(split_dir) / listing.classes[k], static_cast<int64_t>(k));
  return listing;
}

ImageFolderListing list_tiny_imagenet(const std::string& root, const std::string& split) {
  if (split == "test") fail("the Tiny ImageNet test split has no labels", root, "use the val split as the test set");
  if (split != "train" && split != "val") fail("unknown Tiny ImageNet split '" + split + "'", root, "train | val");
  if (!fs::is_directory(fs::path(root) / split))
    fail("Tiny ImageNet split folder not found", (fs::path(root) / split).string(), kTinyHint);
  ImageFolderListing listing;
  listing.classes = read_wnids(root);
  if (split == "val") {
    add_tiny_val(listing, root);
    return listing;
  }
  const fs::path train = fs::path(root) / "train";
  for (const auto& folder : sorted_subfolders(train))
    if (!std::binary_search(listing.classes.begin(), listing.classes.end(), folder))
      fail("class folder not listed in wnids.txt", (train / folder).string(), kTinyHint);
  for (size_t k = 0; k < listing.classes.size(); ++k) {
    const fs::path dir = train / listing.classes[k] / "images";
    if (!fs::is_directory(dir)) fail("Tiny ImageNet class folder not found", dir.string(), kTinyHint);
    add_class_images(listing, dir, static_cast<int64_t>(k));
  }
  return listing;
}

BadImages parse_bad_images(const std::string& value, const std::string& where) {
  if (value == "error") return BadImages::Error;
  if (value == "skip") return BadImages::Skip;
  fail("unknown value '" + value + "'", where, "error | skip");
}

LoadedImages load_images(const ImageFolderListing& listing, const ImageLoadOptions& o) {
  const int64_t n = static_cast<int64_t>(listing.samples.size()), h = o.height, w = o.width;
  TORCH_CHECK(h > 0 && w > 0 && (!o.resize_and_crop || h == w), "load_images: bad output size ", h, "x", w);
  auto images = torch::empty({n, 3, h, w}, torch::kUInt8);  // [N, 3, h, w]
  uint8_t* base = images.data_ptr<uint8_t>();
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  std::vector<char> corrupt(static_cast<size_t>(n), 0);
  std::atomic<int64_t> next{0};
  std::atomic<bool> stop{false};
  auto work = [&] {
    for (int64_t i = next++; i < n && !stop; i = next++) {
      const auto& path = listing.samples[static_cast<size_t>(i)].path;
      try {
        const auto bytes = read_file_bytes(path);
        const auto d = decode_image(bytes.data(), bytes.size(), path);
        uint8_t* slot = base + i * 3 * h * w;
        if (o.resize_and_crop) {
          resize_and_crop(d, h, slot);
        } else if (d.height != h || d.width != w) {
          fail("image is " + std::to_string(d.height) + "x" + std::to_string(d.width) + ", the dataset's images are " +
                   std::to_string(h) + "x" + std::to_string(w),
               path, "this file does not belong to the dataset; remove it or check data.dataset");
        } else {
          store_chw(d, slot);
        }
      } catch (const ImageError&) {
        corrupt[static_cast<size_t>(i)] = 1;
        errors[static_cast<size_t>(i)] = std::current_exception();
        if (o.bad_images == BadImages::Error) stop = true;
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
        stop = true;
      }
    }
  };
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = static_cast<int>(
      std::min<int64_t>(o.threads > 0 ? o.threads : std::min(hw, kMaxDecodeThreads), std::max<int64_t>(n, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  // Indices are claimed in increasing order and every claimed one finishes, so the first error
  // in listing order is always among those recorded: the same file is reported on every run.
  for (int64_t i = 0; i < n; ++i)
    if (errors[i] && !(corrupt[i] && o.bad_images == BadImages::Skip)) std::rethrow_exception(errors[i]);

  LoadedImages out;
  std::vector<int64_t> kept, labels;
  for (int64_t i = 0; i < n; ++i) {
    if (corrupt[i]) {
      out.skipped.push_back(listing.samples[i].path);
    } else {
      kept.push_back(i);
      labels.push_back(listing.samples[i].label);
    }
  }
  if (!out.skipped.empty()) {
    std::string first_error;
    for (int64_t i = 0; i < n && first_error.empty(); ++i) {
      if (!corrupt[i]) continue;
      try {
        std::rethrow_exception(errors[i]);
      } catch (const std::exception& e) {
        first_error = e.what();
      }
    }
    std::string names;
    for (size_t i = 0; i < std::min(out.skipped.size(), kSkippedPathsLogged); ++i)
      names += (i ? ", " : "") + out.skipped[i];
    if (out.skipped.size() > kSkippedPathsLogged) names += ", ...";
    spdlog::warn("{} of {} image files do not decode and were left out (data.bad_images = skip): {}; first error: {}",
                 out.skipped.size(), n, names, first_error);
    if (kept.empty())
      fail("none of the " + std::to_string(n) + " image files decodes", out.skipped.front(),
           "check the dataset's files: " + first_error);
    images = images.index_select(0, torch::tensor(kept, torch::kInt64));
  }
  out.set.images = images;
  out.set.labels = torch::tensor(labels, torch::kInt64);  // [N]
  return out;
}

}  // namespace dnas::data
