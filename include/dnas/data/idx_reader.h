#pragma once
// Reader for the IDX format of MNIST / Fashion-MNIST (big-endian header, then raw uint8).
// Files may be plain or gzip-compressed; gzip is detected by its 1f 8b magic, not the suffix.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dnas::data {

// Whole file contents, transparently gunzipped when the file starts with 1f 8b.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

// Images file (magic 0x00000803, then N, rows, cols) -> [N, 1, rows, cols] uint8.
torch::Tensor read_idx_images(const std::string& path);

// Labels file (magic 0x00000801, then N) -> [N] int64. num_classes > 0: every label must be
// below it.
torch::Tensor read_idx_labels(const std::string& path, int64_t num_classes = 0);

}  // namespace dnas::data
