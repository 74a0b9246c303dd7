#pragma once
// Decoding of JPEG (libjpeg-turbo's TurboJPEG API) and PNG (libpng) files held in memory into
// 8-bit RGB pixels. Grayscale, CMYK/YCCK and alpha images are converted to RGB; anything that is
// not a readable JPEG or PNG is an ImageError naming the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dnas/core/error.h"

namespace dnas::data {

// A corrupt, truncated or unsupported image; what() names the file and says what is wrong.
class ImageError : public Error {
 public:
  using Error::Error;
};

enum class ImageFormat { Jpeg, Png };

struct ImageHeader {
  ImageFormat format = ImageFormat::Jpeg;
  int64_t height = 0, width = 0;
};

struct DecodedImage {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3] RGB, row-major
};

// Format and full-size dimensions from the header only (no pixel decoding).
// `name` (usually the file path) is used in error messages only.
ImageHeader read_image_header(const uint8_t* bytes, size_t size, const std::string& name);

// Decodes the whole image. For a JPEG, `min_height`/`min_width` > 0 allow DCT-domain scaling:
// the smallest of the scales 1/8, 1/4, 1/2 (or none) whose output is still at least
// min_height x min_width is used. PNGs are always decoded at full size.
DecodedImage decode_image(const uint8_t* bytes, size_t size, const std::string& name, int64_t min_height = 0,
                          int64_t min_width = 0);

// Reads a whole file into memory; an ImageError naming the file when it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace dnas::data
