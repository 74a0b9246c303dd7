#pragma once
// Test helpers: a temporary directory removed on destruction, and raw/gzip file writers.
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dnas::data::test_files {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("dnas_data_test_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void append_be32(std::vector<uint8_t>& bytes, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(v >> shift));
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (!bytes.empty() && gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0)
    throw std::runtime_error("gzwrite failed on " + path);
  gzclose(f);
}

// A learnable Fashion-MNIST-format dataset in `dir` (plain IDX files): class k of 10 has a
// bright 6x6 square at a class-specific position on a noisy 28x28 background.
inline void write_mnist_like(const std::string& dir, uint32_t n_train, uint32_t n_test, uint32_t seed = 1) {
  uint32_t state = seed * 2654435761u + 1;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 24;
  };
  auto write_split = [&](const std::string& prefix, uint32_t n) {
    std::vector<uint8_t> images, labels;
    append_be32(images, 0x803);
    append_be32(images, n);
    append_be32(images, 28);
    append_be32(images, 28);
    append_be32(labels, 0x801);
    append_be32(labels, n);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t k = next() % 10;
      labels.push_back(static_cast<uint8_t>(k));
      const uint32_t r0 = 3 + (k / 5) * 14, c0 = 2 + (k % 5) * 5;
      for (uint32_t r = 0; r < 28; ++r)
        for (uint32_t c = 0; c < 28; ++c) {
          const bool on = r >= r0 && r < r0 + 6 && c >= c0 && c < c0 + 6;
          images.push_back(static_cast<uint8_t>(on ? 200 + next() % 56 : next() % 60));
        }
    }
    write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", images);
    write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
  };
  write_split("train", n_train);
  write_split("t10k", n_test);
}

}  // namespace dnas::data::test_files
