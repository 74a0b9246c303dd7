// JPEG/PNG decoding against PIL's Image.open(f).convert('RGB') of the same files (written by
// tests/common/image_data.py from Fashion-MNIST images), DCT scaling against PIL's draft(), and
// corrupt data.
#include "dnas/data/image_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "data/image_test_data.h"

namespace dnas::data {
namespace {

using image_test_data::fixture;
using image_test_data::pil_reference;
using image_test_data::read_bytes;
using ::testing::HasSubstr;

// Largest absolute difference between two RGB buffers of the same size.
int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(int{a[i]} - int{b[i]}));
  return worst;
}

DecodedImage decode_file(const std::string& name, int64_t min_h = 0, int64_t min_w = 0) {
  const auto bytes = read_bytes(fixture("codec/" + name));
  return decode_image(bytes.data(), bytes.size(), name, min_h, min_w);
}

// Decodes codec/<name> and returns its largest difference from PIL's pixels (sizes must agree).
int diff_from_pil(const std::string& name) {
  const auto ref = pil_reference(name);
  const auto got = decode_file(name);
  EXPECT_EQ(got.height, ref.height) << name;
  EXPECT_EQ(got.width, ref.width) << name;
  const int diff = max_abs_diff(got.pixels, ref.pixels);
  std::cout << "[ max |dnas - PIL| ] " << name << ": " << diff << "\n";
  return diff;
}

// libjpeg-turbo's default decoder (accurate integer IDCT, fancy upsampling) is what PIL uses, so
// the pixels should agree up to a small JPEG tolerance (measured: identical).
constexpr int kJpegTolerance = 2;

TEST(ImageCodec, RgbJpegsMatchPil) {
  for (const char* name : {"rgb420.jpg", "rgb444.jpg", "progressive.jpg", "odd.jpg", "big.jpg"})
    EXPECT_LE(diff_from_pil(name), kJpegTolerance) << name;
}

TEST(ImageCodec, GrayJpegIsReplicatedAsPil) {
  EXPECT_LE(diff_from_pil("gray.jpg"), kJpegTolerance);
  const auto got = decode_file("gray.jpg");
  for (size_t i = 0; i < got.pixels.size(); i += 3) {
    ASSERT_EQ(got.pixels[i], got.pixels[i + 1]);
    ASSERT_EQ(got.pixels[i], got.pixels[i + 2]);
  }
}

// PIL writes CMYK as inverted "Adobe" CMYK and converts with its own cmyk2rgb formula.
TEST(ImageCodec, AdobeCmykJpegConvertsAsPil) { EXPECT_LE(diff_from_pil("cmyk.jpg"), kJpegTolerance); }

TEST(ImageCodec, PngsEqualPilExactly) {
  // rgba/la: alpha dropped, not composited; palette(_trns): colours, transparency ignored;
  // bilevel: 1-bit gray to 0/255; rgb16: high byte; gray16: PIL's mode "I", clipped at 255.
  for (const char* name : {"rgb.png", "rgba.png", "la.png", "gray.png", "bilevel.png", "palette.png",
                           "palette_trns.png", "rgb16.png", "gray16.png"})
    EXPECT_EQ(diff_from_pil(name), 0) << name;
}

TEST(ImageCodec, HeaderGivesFormatAndSizeWithoutDecoding) {
  for (const char* name : {"rgb420.jpg", "cmyk.jpg", "gray.jpg", "rgba.png", "palette.png", "rgb16.png"}) {
    const auto bytes = read_bytes(fixture(std::string("codec/") + name));
    const auto header = read_image_header(bytes.data(), bytes.size(), name);
    const auto ref = pil_reference(name);
    EXPECT_EQ(header.height, ref.height) << name;
    EXPECT_EQ(header.width, ref.width) << name;
    EXPECT_EQ(header.format,
              std::string(name).find(".png") != std::string::npos ? ImageFormat::Png : ImageFormat::Jpeg);
  }
}

TEST(ImageCodec, DctScalingPicksTheSmallestScaleCoveringTheMinimum) {
  struct Case {
    int64_t min_h, min_w, height, width;
  };
  // big.jpg is 72x96: 1/2 -> 36x48, 1/4 -> 18x24, 1/8 -> 9x12.
  for (const Case c :
       {Case{0, 0, 72, 96}, Case{36, 48, 36, 48}, Case{36, 0, 36, 48}, Case{0, 25, 36, 48}, Case{18, 24, 18, 24},
        Case{10, 12, 18, 24}, Case{9, 12, 9, 12}, Case{1, 1, 9, 12}, Case{37, 1, 72, 96}, Case{100, 100, 72, 96}}) {
    const auto got = decode_file("big.jpg", c.min_h, c.min_w);
    EXPECT_EQ(got.height, c.height) << c.min_h << "x" << c.min_w;
    EXPECT_EQ(got.width, c.width) << c.min_h << "x" << c.min_w;
  }
  // PNGs are always decoded at full size.
  const auto png = decode_file("rgb.png", 5, 5);
  EXPECT_EQ(png.height, 40);
  EXPECT_EQ(png.width, 56);
}

TEST(ImageCodec, DctScaledPixelsMatchPilDraft) {
  for (int s : {2, 4, 8}) {
    const auto ref = pil_reference("big.jpg.draft" + std::to_string(s));
    const auto got = decode_file("big.jpg", ref.height, ref.width);
    ASSERT_EQ(got.height, ref.height);
    ASSERT_EQ(got.width, ref.width);
    const int diff = max_abs_diff(got.pixels, ref.pixels);
    std::cout << "[ max |dnas - PIL draft| ] 1/" << s << ": " << diff << "\n";
    EXPECT_LE(diff, kJpegTolerance) << "scale 1/" << s;
  }
}

// The ImageError of decoding `bytes` as `name` (fails when there is none).
std::string decode_error(const std::vector<uint8_t>& bytes, const std::string& name) {
  try {
    decode_image(bytes.data(), bytes.size(), name);
  } catch (const ImageError& e) {
    return e.what();
  }
  ADD_FAILURE() << name << " decoded without an error";
  return "";
}

TEST(ImageCodec, TruncatedJpegIsAnErrorNamingTheFile) {
  auto bytes = read_bytes(fixture("codec/big.jpg"));
  bytes.resize(bytes.size() / 2);  // libjpeg warns "premature end" and would fill the rest grey
  const auto what = decode_error(bytes, "/data/x/truncated.jpg");
  EXPECT_THAT(what, HasSubstr("/data/x/truncated.jpg"));
  EXPECT_THAT(what, HasSubstr("corrupt JPEG"));
  EXPECT_THAT(what, HasSubstr("Hint:"));
  bytes.resize(200);  // inside the tables
  EXPECT_THAT(decode_error(bytes, "cut_header.jpg"), HasSubstr("cut_header.jpg"));
}

TEST(ImageCodec, JpegWithAMarkerInsideItsScanIsAnError) {
  auto bytes = read_bytes(fixture("codec/rgb444.jpg"));
  // An EOI marker in the middle of the entropy-coded data: the scan ends early (a libjpeg warning).
  const size_t mid = bytes.size() * 2 / 3;
  bytes[mid] = 0xff;
  bytes[mid + 1] = 0xd9;
  EXPECT_THAT(decode_error(bytes, "early_eoi.jpg"), HasSubstr("early_eoi.jpg"));
}

TEST(ImageCodec, StrayBytesBeforeAMarkerDecodeAsPil) {
  // Two bytes between the tables and the start of scan (as in a few ILSVRC-2012 files): libjpeg
  // warns "extraneous bytes before marker 0xda" and skips them; every pixel is still decoded.
  const auto clean = read_bytes(fixture("codec/rgb444.jpg"));
  size_t sos = 2;
  while (sos + 1 < clean.size() && !(clean[sos] == 0xff && clean[sos + 1] == 0xda)) ++sos;
  ASSERT_LT(sos + 1, clean.size());
  auto stray = clean;
  stray.insert(stray.begin() + static_cast<std::ptrdiff_t>(sos), {0x12, 0x34});
  const auto a = decode_image(clean.data(), clean.size(), "clean.jpg");
  const auto b = decode_image(stray.data(), stray.size(), "stray.jpg");
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_LE(max_abs_diff(b.pixels, pil_reference("rgb444.jpg").pixels), kJpegTolerance);
}

TEST(ImageCodec, CorruptPngIsAnErrorNamingTheFile) {
  auto bytes = read_bytes(fixture("codec/rgb.png"));
  auto truncated = bytes;
  truncated.resize(bytes.size() - 40);
  EXPECT_THAT(decode_error(truncated, "cut.png"), HasSubstr("cut.png"));
  auto flipped = bytes;
  flipped[60] ^= 0x5a;  // inside IDAT: its CRC no longer matches
  const auto what = decode_error(flipped, "flipped.png");
  EXPECT_THAT(what, HasSubstr("flipped.png"));
  EXPECT_THAT(what, HasSubstr("corrupt PNG"));
}

TEST(ImageCodec, NonImageBytesAreAnErrorNamingTheFile) {
  const std::string text = "<html>not found</html>";
  const auto what = decode_error(std::vector<uint8_t>(text.begin(), text.end()), "photo.jpg");
  EXPECT_THAT(what, HasSubstr("photo.jpg"));
  EXPECT_THAT(what, HasSubstr("not a JPEG or PNG"));
  EXPECT_THAT(decode_error({}, "empty.png"), HasSubstr("empty.png"));
  try {
    read_image_header(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "head.jpg");
    ADD_FAILURE() << "no error";
  } catch (const ImageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("head.jpg"));
  }
}

TEST(ImageCodec, ReadFileBytesNamesAMissingFile) {
  try {
    read_file_bytes("/nonexistent/dir/a.jpg");
    ADD_FAILURE() << "no error";
  } catch (const ImageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/dir/a.jpg"));
  }
  EXPECT_EQ(read_file_bytes(fixture("codec/rgb.png")), read_bytes(fixture("codec/rgb.png")));
}

}  // namespace
}  // namespace dnas::data
