#include "dnas/data/image_codec.h"

#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace dnas::data {
namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
const char* const kCorruptHint =
    "the file is damaged or truncated: download it again, or set data.bad_images = skip to leave such files out";

[[noreturn]] void image_fail(const std::string& what, const std::string& name, const std::string& hint) {
  std::string msg = what + " [" + name + "]";
  if (!hint.empty()) msg += ". Hint: " + hint;
  throw ImageError(msg);
}

bool is_jpeg(const uint8_t* b, size_t n) { return n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff; }
bool is_png(const uint8_t* b, size_t n) { return n >= 8 && std::memcmp(b, kPngSignature, 8) == 0; }

ImageFormat detect_format(const uint8_t* bytes, size_t size, const std::string& name) {
  if (is_jpeg(bytes, size)) return ImageFormat::Jpeg;
  if (is_png(bytes, size)) return ImageFormat::Png;
  char start[64] = "";
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i)
    std::snprintf(start + 3 * i, sizeof start - 3 * i, "%02x ", bytes[i]);
  image_fail(size == 0 ? std::string("empty file, not an image")
                       : "not a JPEG or PNG file (it starts with bytes " + std::string(start) + ")",
             name,
             "only JPEG and PNG are read: convert the file, remove it, or set data.bad_images = skip to leave "
             "undecodable files out");
}

// ---- JPEG (TurboJPEG) ----

// One decompressor per thread, destroyed when the thread ends.
tjhandle jpeg_decompressor(const std::string& name) {
  struct Handle {
    tjhandle h = tjInitDecompress();
    ~Handle() {
      if (h) tjDestroy(h);
    }
  };
  thread_local Handle handle;
  if (!handle.h) image_fail("cannot create a TurboJPEG decompressor", name, "out of memory?");
  return handle.h;
}

[[noreturn]] void jpeg_fail(tjhandle h, const std::string& step, const std::string& name) {
  const bool warning = tjGetErrorCode(h) == TJERR_WARNING;
  image_fail(std::string("corrupt JPEG (") + step + (warning ? ", libjpeg warning: " : ": ") + tjGetErrorStr2(h) + ")",
             name, kCorruptHint);
}

// libjpeg's one warning that leaves every pixel decoded: stray bytes between two segments (a
// few ILSVRC-2012 files have them; PIL decodes them). Any other warning (a truncated file, a
// bad Huffman code) means pixels are missing or wrong.
bool is_benign_warning(tjhandle h) {
  return tjGetErrorCode(h) == TJERR_WARNING &&
         std::string(tjGetErrorStr2(h)).find("extraneous bytes before marker") != std::string::npos;
}

// True when an APP14 "Adobe" segment precedes the first scan. PIL reads CMYK/YCCK JPEGs with
// that marker as inverted CMYK (the Adobe convention) and the others as plain CMYK.
bool has_adobe_marker(const uint8_t* b, size_t n) {
  size_t pos = 2;  // after SOI
  while (pos + 4 <= n) {
    if (b[pos] != 0xff) return false;
    const uint8_t marker = b[pos + 1];
    if (marker == 0xff) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xda || marker == 0xd9) return false;  // SOS, EOI
    const size_t length = (size_t{b[pos + 2]} << 8) | b[pos + 3];
    if (marker == 0xee && length >= 7 && pos + 9 <= n && std::memcmp(b + pos + 4, "Adobe", 5) == 0) return true;
    pos += 2 + length;
  }
  return false;
}

// PIL's CMYK -> RGB (Convert.c cmyk2rgb): channel = (255 - K) - round(C * (255 - K) / 255).
uint8_t cmyk_channel(int c, int nk) {
  const int t = c * nk + 128;
  return static_cast<uint8_t>(std::clamp(nk - (((t >> 8) + t) >> 8), 0, 255));
}

DecodedImage decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name, int64_t min_h, int64_t min_w) {
  tjhandle h = jpeg_decompressor(name);
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(h, bytes, static_cast<unsigned long>(size), &width, &height, &subsamp, &colorspace) != 0 &&
      !is_benign_warning(h))
    jpeg_fail(h, "header", name);
  // The smallest of 1/8, 1/4, 1/2 whose output still covers min_h x min_w (else full size).
  tjscalingfactor scale{1, 1};
  if (min_h > 0 || min_w > 0) {
    int count = 0;
    const tjscalingfactor* factors = tjGetScalingFactors(&count);
    for (int denom : {8, 4, 2}) {
      const bool supported = std::any_of(factors, factors + count,
                                         [&](const tjscalingfactor& f) { return f.num == 1 && f.denom == denom; });
      const tjscalingfactor f{1, denom};
      if (supported && TJSCALED(height, f) >= min_h && TJSCALED(width, f) >= min_w) {
        scale = f;
        break;
      }
    }
  }
  DecodedImage out;
  out.height = TJSCALED(height, scale);
  out.width = TJSCALED(width, scale);
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const size_t pixels = static_cast<size_t>(out.height * out.width);
  std::vector<uint8_t> raw(pixels * (cmyk ? 4 : 3));
  if (tjDecompress2(h, bytes, static_cast<unsigned long>(size), raw.data(), static_cast<int>(out.width), 0,
                    static_cast<int>(out.height), cmyk ? TJPF_CMYK : TJPF_RGB, 0) != 0 &&
      !is_benign_warning(h))
    jpeg_fail(h, "data", name);
  if (!cmyk) {
    out.pixels = std::move(raw);
    return out;
  }
  const bool inverted = has_adobe_marker(bytes, size);
  out.pixels.resize(pixels * 3);
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = &raw[4 * i];
    const int nk = inverted ? p[3] : 255 - p[3];
    for (int c = 0; c < 3; ++c) out.pixels[3 * i + c] = cmyk_channel(inverted ? 255 - p[c] : p[c], nk);
  }
  return out;
}

// ---- PNG (libpng) ----

struct PngSource {
  const uint8_t* data;
  size_t size, pos;
  char message[200];
};

void png_read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (src->size - src->pos < n) png_error(png, "the data ends early: the file is truncated");
  std::memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof src->message, "%s", message);
  png_longjmp(png, 1);
}

// Warnings concern ancillary chunks (a bad sRGB profile, a damaged text chunk); PIL ignores them too.
void png_on_warning(png_structp, png_const_charp) {}

struct PngLayout {
  png_uint_32 width, height;
  int color_type, channels, bit_depth;
};

// Reads the header and sets the expansions (palette -> RGB(A), 1/2/4-bit gray -> 8-bit). Returns
// false after a libpng error. Only plain C data lives here: libpng leaves through longjmp.
bool png_start(png_structp png, png_infop info, PngLayout* layout) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  layout->width = png_get_image_width(png, info);
  layout->height = png_get_image_height(png, info);
  layout->color_type = png_get_color_type(png, info);
  if (layout->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (layout->color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  layout->channels = png_get_channels(png, info);
  layout->bit_depth = png_get_bit_depth(png, info);
  return true;
}

bool png_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  return true;
}

DecodedImage decode_png(const uint8_t* bytes, size_t size, const std::string& name) {
  PngSource src{bytes, size, 0, ""};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  struct Guard {
    png_structp* png;
    png_infop* info;
    ~Guard() { png_destroy_read_struct(png, info, nullptr); }
  } guard{&png, &info};
  if (!png || !info) image_fail("cannot create a libpng reader", name, "out of memory?");
  png_set_read_fn(png, &src, png_read_bytes);
  PngLayout layout{};
  if (!png_start(png, info, &layout)) image_fail(std::string("corrupt PNG (") + src.message + ")", name, kCorruptHint);
  const size_t bytes_per_sample = layout.bit_depth == 16 ? 2 : 1;
  const size_t row_bytes = size_t{layout.width} * layout.channels * bytes_per_sample;
  std::vector<uint8_t> raw(row_bytes * layout.height);  // [height, width, channels] (16-bit: big-endian)
  std::vector<png_bytep> rows(layout.height);
  for (size_t y = 0; y < layout.height; ++y) rows[y] = raw.data() + y * row_bytes;
  if (!png_rows(png, rows.data())) image_fail(std::string("corrupt PNG (") + src.message + ")", name, kCorruptHint);

  // To RGB as PIL's convert('RGB'): alpha dropped (not composited), gray replicated, 16-bit
  // samples cut to their high byte, except 16-bit gray without alpha, which PIL opens as mode "I"
  // and clips at 255.
  DecodedImage out;
  out.height = layout.height;
  out.width = layout.width;
  const size_t pixels = size_t{layout.width} * layout.height;
  out.pixels.resize(pixels * 3);
  const bool gray = layout.channels <= 2;
  const bool clip_gray16 = layout.color_type == PNG_COLOR_TYPE_GRAY && layout.bit_depth == 16;
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = &raw[i * layout.channels * bytes_per_sample];
    for (int c = 0; c < 3; ++c) {
      const uint8_t* s = p + (gray ? 0 : c) * bytes_per_sample;
      uint8_t v = s[0];
      if (clip_gray16) v = static_cast<uint8_t>(std::min(255, (s[0] << 8) | s[1]));
      out.pixels[3 * i + c] = v;
    }
  }
  return out;
}

uint32_t big_endian_u32(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

}  // namespace

ImageHeader read_image_header(const uint8_t* bytes, size_t size, const std::string& name) {
  ImageHeader header;
  header.format = detect_format(bytes, size, name);
  if (header.format == ImageFormat::Jpeg) {
    tjhandle h = jpeg_decompressor(name);
    int width = 0, height = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(h, bytes, static_cast<unsigned long>(size), &width, &height, &subsamp, &colorspace) != 0 &&
        !is_benign_warning(h))
      jpeg_fail(h, "header", name);
    header.height = height;
    header.width = width;
    return header;
  }
  // PNG: signature, then the IHDR chunk (length 13) with big-endian width and height.
  if (size < 24 || std::memcmp(bytes + 12, "IHDR", 4) != 0)
    image_fail("corrupt PNG (no IHDR chunk after the signature)", name, kCorruptHint);
  header.width = big_endian_u32(bytes + 16);
  header.height = big_endian_u32(bytes + 20);
  if (header.width == 0 || header.height == 0) image_fail("corrupt PNG (zero width or height)", name, kCorruptHint);
  return header;
}

DecodedImage decode_image(const uint8_t* bytes, size_t size, const std::string& name, int64_t min_height,
                          int64_t min_width) {
  if (detect_format(bytes, size, name) == ImageFormat::Jpeg)
    return decode_jpeg(bytes, size, name, min_height, min_width);
  return decode_png(bytes, size, name);
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) image_fail("cannot open image file", path, "check that it exists and is readable");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) image_fail("cannot read image file", path, "check the disk and the file's permissions");
  return bytes;
}

}  // namespace dnas::data
