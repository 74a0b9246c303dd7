#include "dnas/data/image_augment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace dnas::data {
namespace stream_test {  // defined in tar_shards_test.cpp
std::vector<uint8_t> encode_jpeg(const uint8_t* rgb, int height, int width, int quality);
std::vector<uint8_t> encode_png(const uint8_t* rgb, int height, int width);
std::vector<uint8_t> fashion_mnist_rgb(int64_t i, int scale);
}  // namespace stream_test
namespace {

// value(y, x, c) = 10 y + 20 x + c: linear, so bilinear samples have closed forms.
DecodedImage linear_image(int64_t height, int64_t width) {
  DecodedImage im;
  im.height = height, im.width = width;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int64_t c = 0; c < 3; ++c) im.pixels.push_back(static_cast<uint8_t>(10 * y + 20 * x + c));
  return im;
}

float at(const std::vector<float>& hwc, int64_t width, int64_t y, int64_t x, int64_t c) {
  return hwc[static_cast<size_t>((y * width + x) * 3 + c)];
}

TEST(ImageAugment, ResizedCropDrawsStayInScaleAndRatioBounds) {
  const ImageTransform t = imagenet_train_transform();
  const int64_t height = 800, width = 1000;
  std::set<std::pair<double, double>> sizes;
  for (int64_t i = 0; i < 2000; ++i) {
    SplitMix64 rng(sample_key(0, 0, i));
    const CropBox b = draw_resized_crop(height, width, t, rng);
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_LE(b.top + b.height, height);
    ASSERT_LE(b.left + b.width, width);
    const double area = b.height * b.width / (height * width), ratio = b.width / b.height;
    EXPECT_GE(area, 0.08 - 0.002);
    EXPECT_LE(area, 1.0);
    EXPECT_GE(ratio, 3.0 / 4.0 - 0.01);
    EXPECT_LE(ratio, 4.0 / 3.0 + 0.01);
    EXPECT_EQ(b.height, std::floor(b.height));  // integer pixels
    sizes.insert({b.height, b.width});
  }
  EXPECT_GT(sizes.size(), 1000u);
}

TEST(ImageAugment, ResizedCropFallbackIsTheClampedCentreCrop) {
  const ImageTransform t = imagenet_train_transform();
  SplitMix64 rng(1);
  // 1 x 1000: every attempt is too tall; ratio 1000 > 4/3 -> h = 1, w = round(4/3) = 1, centred.
  CropBox b = draw_resized_crop(1, 1000, t, rng);
  EXPECT_EQ(b.top, 0);
  EXPECT_EQ(b.left, 499);  // (1000 - 1) // 2
  EXPECT_EQ(b.height, 1);
  EXPECT_EQ(b.width, 1);
  // 1000 x 10: too wide; ratio 0.01 < 3/4 -> w = 10, h = round(10 / 0.75) = 13, top (1000 - 13) // 2.
  b = draw_resized_crop(1000, 10, t, rng);
  EXPECT_EQ(b.top, 493);
  EXPECT_EQ(b.left, 0);
  EXPECT_EQ(b.height, 13);
  EXPECT_EQ(b.width, 10);
  // Ratio in range, area always too large: the whole image.
  ImageTransform big = t;
  big.scale_min = 1.5, big.scale_max = 2.0;
  b = draw_resized_crop(100, 120, big, rng);
  EXPECT_EQ(b.top, 0);
  EXPECT_EQ(b.left, 0);
  EXPECT_EQ(b.height, 100);
  EXPECT_EQ(b.width, 120);
}

TEST(ImageAugment, EvalBoxIsResize256ThenCentreCrop224) {
  // 375 x 500 -> 256 x int(256 * 500 / 375) = 256 x 341; offsets round(16) = 16, round(58.5) = 58.
  CropBox b = eval_crop_box(375, 500, 256, 224);
  EXPECT_DOUBLE_EQ(b.top, 16 * 375.0 / 256);
  EXPECT_DOUBLE_EQ(b.left, 58 * 500.0 / 341);
  EXPECT_DOUBLE_EQ(b.height, 224 * 375.0 / 256);
  EXPECT_DOUBLE_EQ(b.width, 224 * 500.0 / 341);
  // Portrait 400 x 300 -> 341 x 256: offsets 58 (top) and 16 (left).
  b = eval_crop_box(400, 300, 256, 224);
  EXPECT_DOUBLE_EQ(b.top, 58 * 400.0 / 341);
  EXPECT_DOUBLE_EQ(b.left, 16 * 300.0 / 256);
}

TEST(ImageAugment, BilinearUpsampleMatchesHandComputedPixels) {
  const DecodedImage im = linear_image(4, 4);
  const auto out = resample_box(im, {0, 0, 4, 4}, 8, 8, false);     // [8, 8, 3]
  EXPECT_FLOAT_EQ(at(out, 8, 0, 0, 0), 0);                          // clamped to pixel (0, 0)
  EXPECT_FLOAT_EQ(at(out, 8, 3, 5, 1), 10 * 1.25 + 20 * 2.25 + 1);  // source (1.25, 2.25)
  EXPECT_FLOAT_EQ(at(out, 8, 1, 2, 2), 10 * 0.25 + 20 * 0.75 + 2);  // source (0.25, 0.75)
  EXPECT_FLOAT_EQ(at(out, 8, 7, 7, 0), 10 * 3 + 20 * 3);            // clamped to pixel (3, 3)
}

TEST(ImageAugment, CropThenResizeClampsAtTheCropButResizeThenCropDoesNot) {
  const DecodedImage im = linear_image(6, 6);
  const CropBox box{1, 2, 2, 2};
  const auto crop = resample_box(im, box, 4, 4, true);           // [4, 4, 3]
  EXPECT_FLOAT_EQ(at(crop, 4, 1, 2, 0), 10 * 1.25 + 20 * 2.75);  // source (1.25, 2.75)
  EXPECT_FLOAT_EQ(at(crop, 4, 0, 0, 0), 10 * 1 + 20 * 2);        // source (0.75, 1.75) clamped to (1, 2)
  const auto resized = resample_box(im, box, 4, 4, false);
  EXPECT_FLOAT_EQ(at(resized, 4, 0, 0, 0), 10 * 0.75 + 20 * 1.75);  // taps outside the box
  // Downscaling a constant image keeps it constant (antialiasing weights sum to 1).
  DecodedImage flat;
  flat.height = 40, flat.width = 30;
  flat.pixels.assign(40 * 30 * 3, 77);
  for (float v : resample_box(flat, {3, 2, 33, 25}, 5, 4, true)) EXPECT_NEAR(v, 77, 1e-4);
}

TEST(ImageAugment, FlipAndRotation) {
  std::vector<float> im(2 * 3 * 3);
  for (size_t i = 0; i < im.size(); ++i) im[i] = static_cast<float>(i);
  flip_horizontal(im.data(), 2, 3);
  EXPECT_EQ(im[0], 6);    // (0, 0) <- (0, 2)
  EXPECT_EQ(im[3], 3);    // middle column stays
  EXPECT_EQ(im[11], 17);  // (1, 0, c=2) <- (1, 2, 2)
  // 90 degrees counter-clockwise: out(y, x) = in(x, W - 1 - y).
  std::vector<float> sq(4 * 4 * 3), rotated;
  for (size_t i = 0; i < sq.size(); ++i) sq[i] = static_cast<float>(i / 3);
  rotated = sq;
  rotate_nearest(rotated.data(), 4, 4, 90.0);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_EQ(rotated[(y * 4 + x) * 3], sq[(x * 4 + (3 - y)) * 3]) << y << "," << x;
  rotated = sq;
  rotate_nearest(rotated.data(), 4, 4, 0.0);
  EXPECT_EQ(rotated, sq);
  rotated = sq;
  rotate_nearest(rotated.data(), 4, 4, 45.0);
  EXPECT_EQ(rotated[0], 0.0f);  // a corner comes from outside: zero fill
}

TEST(ImageAugment, ColourJitterPiecesMatchClosedForms) {
  std::vector<float> px{0.2f, 0.6f, 0.4f, 1.0f, 0.0f, 0.0f};  // two RGB pixels
  adjust_brightness(px.data(), 2, 2.0f);
  EXPECT_FLOAT_EQ(px[0], 0.4f);
  EXPECT_FLOAT_EQ(px[1], 1.0f);  // 1.2 clamped
  EXPECT_FLOAT_EQ(px[3], 1.0f);
  EXPECT_FLOAT_EQ(gray_value(1, 0, 0), 0.299f);
  EXPECT_FLOAT_EQ(gray_value(0, 1, 0), 0.587f);
  EXPECT_FLOAT_EQ(gray_value(0, 0, 1), 0.114f);
  std::vector<float> rg{1, 0, 0, 0, 1, 0};
  adjust_contrast(rg.data(), 2, 0.0f);  // every value -> mean gray (0.299 + 0.587) / 2
  for (float v : rg) EXPECT_NEAR(v, 0.443f, 1e-6);
  std::vector<float> sat{1, 0, 0};
  adjust_saturation(sat.data(), 1, 0.0f);  // grayscale
  for (float v : sat) EXPECT_NEAR(v, 0.299f, 1e-6);
  sat = {0.5f, 0.25f, 0.0f};
  adjust_saturation(sat.data(), 1, 2.0f);  // 2 x - gray, gray = 0.29625
  EXPECT_NEAR(sat[0], 0.70375f, 1e-6);
  EXPECT_NEAR(sat[2], 0.0f, 1e-6);  // clamped
  std::vector<float> red{1, 0, 0};
  adjust_hue(red.data(), 1, 1.0f / 3.0f);
  EXPECT_NEAR(red[0], 0, 1e-5);
  EXPECT_NEAR(red[1], 1, 1e-5);
  EXPECT_NEAR(red[2], 0, 1e-5);
  red = {1, 0, 0};
  adjust_hue(red.data(), 1, -1.0f / 3.0f);  // -> blue
  EXPECT_NEAR(red[2], 1, 1e-5);
  EXPECT_NEAR(red[1], 0, 1e-5);
  std::vector<float> gray{0.3f, 0.3f, 0.3f};
  adjust_hue(gray.data(), 1, 0.25f);
  EXPECT_EQ(gray, (std::vector<float>{0.3f, 0.3f, 0.3f}));
}

TEST(ImageAugment, PngThroughTheWholeGeometryIsExact) {
  const auto rgb = stream_test::fashion_mnist_rgb(0, 1);
  const auto png = stream_test::encode_png(rgb.data(), 28, 28);
  ImageTransform t = tiny_imagenet_eval_transform();
  t.size = 28;
  t.mean = {0, 0, 0}, t.std = {1, 1, 1};
  std::vector<float> out(3 * 28 * 28);  // [3, 28, 28]
  transform_image(png.data(), png.size(), "x.png", t, false, 0, out.data());
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 28 * 28; p += 37) EXPECT_FLOAT_EQ(out[c * 784 + p], rgb[p * 3 + c] / 255.0f);
}

TEST(ImageAugment, TrainTransformIsAFunctionOfTheKey) {
  const auto rgb = stream_test::fashion_mnist_rgb(3, 4);  // 112 x 112
  const auto jpg = stream_test::encode_jpeg(rgb.data(), 112, 112, 90);
  ImageTransform t = imagenet_train_transform();
  t.size = 32, t.resize = 36;
  std::vector<float> a(3 * 32 * 32), b(a.size()), c(a.size());
  transform_image(jpg.data(), jpg.size(), "x.jpg", t, true, sample_key(5, 1, 9), a.data());
  transform_image(jpg.data(), jpg.size(), "x.jpg", t, true, sample_key(5, 1, 9), b.data());
  transform_image(jpg.data(), jpg.size(), "x.jpg", t, true, sample_key(5, 2, 9), c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (float v : a) ASSERT_TRUE(std::isfinite(v));
  // Eval geometry ignores the key.
  transform_image(jpg.data(), jpg.size(), "x.jpg", t, false, 1, a.data());
  transform_image(jpg.data(), jpg.size(), "x.jpg", t, false, 2, b.data());
  EXPECT_EQ(a, b);
}

TEST(ImageAugment, DctScalingStaysCloseToAFullDecode) {
  const auto rgb = stream_test::fashion_mnist_rgb(7, 8);  // 224 x 224
  const auto jpg = stream_test::encode_jpeg(rgb.data(), 224, 224, 95);
  ImageTransform t = imagenet_eval_transform();
  t.size = 48, t.resize = 56;  // a 1/4 DCT scale suffices
  std::vector<float> scaled(3 * 48 * 48), full(scaled.size());
  transform_image(jpg.data(), jpg.size(), "x.jpg", t, false, 0, scaled.data());
  t.dct_scaling = false;
  transform_image(jpg.data(), jpg.size(), "x.jpg", t, false, 0, full.data());
  double diff = 0;
  for (size_t i = 0; i < full.size(); ++i) diff += std::abs(full[i] - scaled[i]);
  // The DCT's 4x4 box average is sharper than the 4x triangle filter: on this blocky image the two
  // differ by about 8 grey levels on average (normalised units: 1/255 / 0.225 = 0.017 per level).
  EXPECT_LT(diff / full.size(), 0.2);
  EXPECT_NE(full, scaled);
}

}  // namespace
}  // namespace dnas::data
