#include "dnas/data/idx_reader.h"

#include <torch/torch.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "dnas/core/error.h"

namespace dnas::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte data, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte data, 1 dimension

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

uint32_t big_endian_u32(const std::vector<uint8_t>& bytes, size_t offset) {
  return (uint32_t{bytes[offset]} << 24) | (uint32_t{bytes[offset + 1]} << 16) | (uint32_t{bytes[offset + 2]} << 8) |
         uint32_t{bytes[offset + 3]};
}

std::vector<uint8_t> read_gzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) fail("cannot open gzip file", path, "check that it exists and is readable");
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      const std::string why = gzerror(file, &code);
      gzclose(file);
      fail("corrupt gzip data (" + why + ")", path, "the download may be truncated; fetch it again");
    }
    if (got == 0) break;
    out.insert(out.end(), chunk.begin(), chunk.begin() + got);
  }
  gzclose(file);
  return out;
}

// Header magic and payload size checks shared by both kinds of IDX file.
void check_magic(uint32_t magic, uint32_t expected, const std::string& kind, const std::string& path) {
  if (magic == expected) return;
  const bool swapped = magic == (expected == kImagesMagic ? kLabelsMagic : kImagesMagic);
  fail("not an IDX " + kind + " file: magic " + hex32(magic) + ", expected " + hex32(expected) + " (" +
           std::to_string(expected) + ")",
       path,
       swapped ? "this looks like the other kind of IDX file (images vs labels)"
               : "the file is not in IDX format, or is compressed with something other than gzip");
}

void check_payload(uint64_t expected, uint64_t got, const std::string& what, const std::string& path) {
  if (got < expected)
    fail("truncated IDX " + what + " payload: expected " + std::to_string(expected) + " bytes after the header, got " +
             std::to_string(got),
         path, "the file is incomplete; fetch it again");
  if (got > expected)
    fail("IDX " + what + " file has " + std::to_string(got - expected) + " trailing bytes: expected " +
             std::to_string(expected) + " bytes after the header, got " + std::to_string(got),
         path, "the header does not match the data; the file may be corrupt");
}

}  // namespace

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open file", path, "check that it exists and is readable");
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  if (in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return read_gzip(path);
  in.clear();
  in.seekg(0);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("error while reading file", path);
  return bytes;
}

torch::Tensor read_idx_images(const std::string& path) {
  const auto bytes = read_maybe_gzip(path);
  constexpr size_t kHeader = 16;  // magic, N, rows, cols
  if (bytes.size() < kHeader)
    fail("file too short for an IDX images header (" + std::to_string(bytes.size()) + " bytes, need 16)", path,
         "the file is truncated or not in IDX format");
  check_magic(big_endian_u32(bytes, 0), kImagesMagic, "images", path);
  const uint64_t count = big_endian_u32(bytes, 4), rows = big_endian_u32(bytes, 8), cols = big_endian_u32(bytes, 12);
  if (count == 0 || rows == 0 || cols == 0)
    fail("IDX images header has a zero dimension (N=" + std::to_string(count) + ", rows=" + std::to_string(rows) +
             ", cols=" + std::to_string(cols) + ")",
         path);
  uint64_t expected = 0;
  if (__builtin_mul_overflow(count, rows * cols, &expected))
    fail("IDX images header sizes are implausible", path, "the file is corrupt");
  check_payload(expected, bytes.size() - kHeader, "images", path);

  auto images = torch::empty({static_cast<int64_t>(count), 1, static_cast<int64_t>(rows), static_cast<int64_t>(cols)},
                             torch::kUInt8);  // [N, 1, rows, cols]
  std::memcpy(images.data_ptr<uint8_t>(), bytes.data() + kHeader, expected);
  return images;
}

torch::Tensor read_idx_labels(const std::string& path, int64_t num_classes) {
  const auto bytes = read_maybe_gzip(path);
  constexpr size_t kHeader = 8;  // magic, N
  if (bytes.size() < kHeader)
    fail("file too short for an IDX labels header (" + std::to_string(bytes.size()) + " bytes, need 8)", path,
         "the file is truncated or not in IDX format");
  check_magic(big_endian_u32(bytes, 0), kLabelsMagic, "labels", path);
  const uint64_t count = big_endian_u32(bytes, 4);
  if (count == 0) fail("IDX labels header says N=0", path);
  check_payload(count, bytes.size() - kHeader, "labels", path);

  auto labels = torch::empty({static_cast<int64_t>(count)}, torch::kInt64);  // [N]
  auto* out = labels.data_ptr<int64_t>();
  for (uint64_t i = 0; i < count; ++i) {
    out[i] = bytes[kHeader + i];
    if (num_classes > 0 && out[i] >= num_classes)
      fail("label " + std::to_string(out[i]) + " at index " + std::to_string(i) + " is not below the " +
               std::to_string(num_classes) + " classes",
           path, "the labels file does not belong to this dataset, or is corrupt");
  }
  return labels;
}

}  // namespace dnas::data
