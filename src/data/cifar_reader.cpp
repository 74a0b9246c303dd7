#include "dnas/data/cifar_reader.h"

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "dnas/core/error.h"

namespace dnas::data {
namespace {

constexpr int64_t kChannels = 3, kSide = 32;
constexpr int64_t kPixelBytes = kChannels * kSide * kSide;  // 3072: R plane, G plane, B plane

struct RecordLayout {
  int64_t label_bytes;   // bytes before the pixels
  int64_t label_offset;  // which of them is the label we keep (the fine one for CIFAR-100)
  int64_t classes;
  int64_t bytes() const { return label_bytes + kPixelBytes; }
};

RecordLayout layout_of(CifarKind kind) {
  return kind == CifarKind::Cifar10 ? RecordLayout{1, 0, 10} : RecordLayout{2, 1, 100};
}

// Number of records in `path`, after checking its size is a positive multiple of the record size.
int64_t count_records(const std::string& path, const RecordLayout& layout) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot read CIFAR file (" + ec.message() + ")", path, "check that it exists and is readable");
  const auto bytes = static_cast<int64_t>(size);
  if (bytes == 0 || bytes % layout.bytes() != 0)
    fail("CIFAR file size " + std::to_string(bytes) + " is not a positive multiple of the record size " +
             std::to_string(layout.bytes()),
         path,
         "use the binary version (not the python or matlab one), with CIFAR-10 vs CIFAR-100 matching data.dataset; "
         "the file may also be truncated");
  return bytes / layout.bytes();
}

}  // namespace

ImageSet read_cifar_binary(const std::vector<std::string>& files, CifarKind kind) {
  if (files.empty()) fail("no CIFAR files given", "read_cifar_binary");
  const RecordLayout layout = layout_of(kind);
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const auto& path : files) total += counts.emplace_back(count_records(path, layout));

  ImageSet set;
  set.images = torch::empty({total, kChannels, kSide, kSide}, torch::kUInt8);  // [N, 3, 32, 32]
  set.labels = torch::empty({total}, torch::kInt64);                           // [N]
  auto* pixels = set.images.data_ptr<uint8_t>();
  auto* labels = set.labels.data_ptr<int64_t>();

  int64_t row = 0;
  std::vector<uint8_t> record(static_cast<size_t>(layout.bytes()));
  for (size_t f = 0; f < files.size(); ++f) {
    const auto& path = files[f];
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot open CIFAR file", path, "check that it exists and is readable");
    for (int64_t r = 0; r < counts[f]; ++r, ++row) {
      if (!in.read(reinterpret_cast<char*>(record.data()), layout.bytes()))
        fail("error while reading CIFAR record " + std::to_string(r), path);
      if (kind == CifarKind::Cifar100 && record[0] >= 20)
        fail("coarse label " + std::to_string(record[0]) + " of record " + std::to_string(r) + " is not below 20", path,
             "the file may be corrupt or not CIFAR-100 binary");
      const int64_t label = record[static_cast<size_t>(layout.label_offset)];
      if (label >= layout.classes)
        fail("label " + std::to_string(label) + " of record " + std::to_string(r) + " is not below " +
                 std::to_string(layout.classes),
             path, "the file may be corrupt, or CIFAR-10 and CIFAR-100 files are mixed up");
      labels[row] = label;
      std::memcpy(pixels + row * kPixelBytes, record.data() + layout.label_bytes, kPixelBytes);
    }
  }
  return set;
}

}  // namespace dnas::data
