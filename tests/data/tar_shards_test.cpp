#include "dnas/data/tar_shards.h"

#include <gtest/gtest.h>
#include <png.h>
#include <torch/torch.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "dnas/core/error.h"
#include "dnas/data/idx_reader.h"
#include "test_files.h"

namespace fs = std::filesystem;

// Encoders and a Fashion-MNIST image folder shared by the test_data_stream suites.
namespace dnas::data::stream_test {

std::vector<uint8_t> encode_jpeg(const uint8_t* rgb, int height, int width, int quality) {
  tjhandle tj = tjInitCompress();
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(tj, rgb, width, 0, height, TJPF_RGB, &buffer, &size, TJSAMP_444, quality, 0);
  std::vector<uint8_t> out(buffer, buffer + (rc == 0 ? size : 0));
  tjFree(buffer);
  tjDestroy(tj);
  if (rc != 0) throw std::runtime_error("tjCompress2 failed");
  return out;
}

std::vector<uint8_t> encode_png(const uint8_t* rgb, int height, int width) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, rgb, 0, nullptr)) throw std::runtime_error("png size");
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, rgb, 0, nullptr)) throw std::runtime_error("png");
  out.resize(size);
  return out;
}

// Fashion-MNIST test image i as [28*scale, 28*scale, 3] RGB (gray replicated, nearest upscaling).
std::vector<uint8_t> fashion_mnist_rgb(int64_t i, int scale) {
  static const torch::Tensor images =
      read_idx_images("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");  // [N, 1, 28, 28]
  const uint8_t* src = images[i].contiguous().data_ptr<uint8_t>();
  const int side = 28 * scale;
  std::vector<uint8_t> rgb(static_cast<size_t>(side * side * 3));
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x)
      for (int c = 0; c < 3; ++c) rgb[(y * side + x) * 3 + c] = src[(y / scale) * 28 + x / scale];
  return rgb;
}

int64_t fashion_mnist_label(int64_t i) {
  static const torch::Tensor labels = read_idx_labels("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  return labels[i].item<int64_t>();
}

// n images as <dir>/c<label % classes>/img<i>.<ext> (ext "jpg", "png", or "mixed": every third a
// PNG); the returned label of each sample is its class folder's.
std::vector<ImageFile> write_fashion_mnist(const std::string& dir, int64_t n, const std::string& ext, int classes,
                                           int scale = 1) {
  std::vector<ImageFile> files;
  const int side = 28 * scale;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = fashion_mnist_label(i) % classes;
    const auto rgb = fashion_mnist_rgb(i, scale);
    const bool png = ext == "png" || (ext == "mixed" && i % 3 == 0);
    const auto bytes = png ? encode_png(rgb.data(), side, side) : encode_jpeg(rgb.data(), side, side, 90);
    const fs::path folder = fs::path(dir) / ("c" + std::to_string(label));
    fs::create_directories(folder);
    const std::string path = (folder / ("img" + std::to_string(i) + (png ? ".png" : ".jpg"))).string();
    test_files::write_bytes(path, bytes);
    files.push_back({path, label});
  }
  return files;
}

}  // namespace dnas::data::stream_test

namespace dnas::data {
namespace {

using stream_test::write_fashion_mnist;

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(TarShards, RoundTripKeepsBytesAndLabels) {
  test_files::TempDir tmp;
  write_fashion_mnist(tmp.file("in"), 30, "mixed", 3);
  const ImageFolderListing listing = list_image_folder(tmp.file("in"));
  ASSERT_EQ(listing.classes, (std::vector<std::string>{"c0", "c1", "c2"}));
  ASSERT_EQ(listing.samples.size(), 30u);
  const ShardIndex written = write_shards(listing.samples, listing.classes, tmp.file("out/train"), 6000, 7);
  EXPECT_GT(written.shards.size(), 2u);
  EXPECT_EQ(written.shards[0], "train-000000.tar");

  const ShardIndex index = read_shard_index(tmp.file("out/train"));
  EXPECT_EQ(index.total(), 30);
  EXPECT_EQ(index.classes, listing.classes);
  EXPECT_EQ(index.shards, written.shards);
  EXPECT_EQ(index.counts, written.counts);

  std::map<std::string, ImageFile> by_stem;  // "img<i>" -> original
  for (const auto& s : listing.samples) by_stem[fs::path(s.path).stem().string()] = s;
  std::set<std::string> seen;
  std::vector<std::string> order;
  for (size_t i = 0; i < index.shards.size(); ++i) {
    ShardReader reader(index.shard_path(i), index.counts[i], 3);
    ShardRecord r;
    while (reader.next(r)) {
      const std::string stem = r.key.substr(r.key.find('_') + 1);
      ASSERT_EQ(by_stem.count(stem), 1u) << r.key;
      const ImageFile& original = by_stem[stem];
      EXPECT_EQ(r.bytes, file_bytes(original.path)) << r.member;
      EXPECT_EQ(r.label, original.label) << r.member;
      EXPECT_EQ(fs::path(r.member).extension().string(), fs::path(original.path).extension().string());
      seen.insert(stem);
      order.push_back(original.path);
    }
  }
  EXPECT_EQ(seen.size(), 30u);
  std::vector<std::string> listed;
  for (const auto& s : listing.samples) listed.push_back(s.path);
  EXPECT_NE(order, listed) << "packing shuffles the sample order";
}

TEST(TarShards, StandardTarListsImageAndClsMembers) {
  test_files::TempDir tmp;
  const auto files = write_fashion_mnist(tmp.file("in"), 6, "jpg", 2);
  const ShardIndex index = write_shards(files, {"c0", "c1"}, tmp.file("s"), int64_t{1} << 30, 0);
  ASSERT_EQ(index.shards.size(), 1u);
  const std::string listing = tmp.file("list.txt");
  ASSERT_EQ(std::system(("tar -tf '" + index.shard_path(0) + "' > '" + listing + "'").c_str()), 0);
  const auto names = lines_of(listing);
  ASSERT_EQ(names.size(), 12u);
  for (size_t i = 0; i < names.size(); i += 2) {
    const std::string key = names[i].substr(0, names[i].find('.'));
    EXPECT_EQ(names[i], key + ".jpg");
    EXPECT_EQ(names[i + 1], key + ".cls");
  }
}

TEST(TarShards, PackingIsReproducible) {
  test_files::TempDir tmp;
  const auto files = write_fashion_mnist(tmp.file("in"), 8, "jpg", 2);
  write_shards(files, {"c0", "c1"}, tmp.file("a/s"), 1 << 20, 3);
  write_shards(files, {"c0", "c1"}, tmp.file("b/s"), 1 << 20, 3);
  write_shards(files, {"c0", "c1"}, tmp.file("c/s"), 1 << 20, 4);
  EXPECT_EQ(file_bytes(tmp.file("a/s-000000.tar")), file_bytes(tmp.file("b/s-000000.tar")));
  EXPECT_NE(file_bytes(tmp.file("a/s-000000.tar")), file_bytes(tmp.file("c/s-000000.tar")));
}

TEST(TarShards, TruncatedShardIsAnErrorNamingIt) {
  test_files::TempDir tmp;
  const auto files = write_fashion_mnist(tmp.file("in"), 6, "jpg", 2);
  const ShardIndex index = write_shards(files, {"c0", "c1"}, tmp.file("s"), 1 << 20, 0);
  const std::string path = index.shard_path(0);
  const auto bytes = file_bytes(path);
  for (size_t keep : {bytes.size() / 2, size_t{1024}, size_t{700}}) {
    test_files::write_bytes(path, std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(keep)));
    const std::string what = error_of([&] {
      ShardReader reader(path, index.counts[0]);
      ShardRecord r;
      while (reader.next(r)) {
      }
    });
    EXPECT_NE(what.find(path), std::string::npos) << keep << ": " << what;
  }
}

TEST(TarShards, UnpairedOrMalformedMembersAreErrors) {
  test_files::TempDir tmp;
  test_files::write_bytes(tmp.file("a.jpg"), {1, 2, 3});
  test_files::write_bytes(tmp.file("b.jpg"), {4, 5});
  test_files::write_bytes(tmp.file("b.cls"), {'x', '1'});
  ASSERT_EQ(std::system(("cd '" + tmp.path() + "' && tar -cf alone.tar a.jpg && tar -cf bad.tar b.jpg b.cls").c_str()),
            0);
  const auto read_all = [](const std::string& path) {
    ShardReader reader(path);
    ShardRecord r;
    while (reader.next(r)) {
    }
  };
  std::string what = error_of([&] { read_all(tmp.file("alone.tar")); });
  EXPECT_NE(what.find("no .cls"), std::string::npos) << what;
  EXPECT_NE(what.find(tmp.file("alone.tar") + ": a.jpg"), std::string::npos) << what;
  what = error_of([&] { read_all(tmp.file("bad.tar")); });
  EXPECT_NE(what.find("malformed label"), std::string::npos) << what;
  EXPECT_NE(what.find("b.cls"), std::string::npos) << what;
}

TEST(TarShards, BadPackInputIsAnError) {
  test_files::TempDir tmp;
  EXPECT_NE(error_of([&] { pack_image_folder(tmp.file("missing"), tmp.file("o"), 1 << 20, 0); }).find("not found"),
            std::string::npos);
  EXPECT_NE(error_of([&] { pack_image_folder(tmp.path(), tmp.file("o"), 1 << 20, 0); }).find("no class folders"),
            std::string::npos);
  fs::create_directories(tmp.file("in/dog"));
  test_files::write_bytes(tmp.file("in/dog/readme.txt"), {'x'});
  EXPECT_NE(error_of([&] { pack_image_folder(tmp.file("in"), tmp.file("o"), 1 << 20, 0); }).find("without image files"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_shard_index(tmp.file("o")); }).find(tmp.file("o.index.txt")), std::string::npos);
}

}  // namespace
}  // namespace dnas::data
