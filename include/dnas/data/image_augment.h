#pragma once
// ImageNet-style transforms of encoded JPEG/PNG images into normalised float CHW pixels, with
// torchvision 0.14's semantics: RandomResizedCrop + flip + ColorJitter for training, resize of
// the shorter side + centre crop for evaluation, RandomRotation + flip for Tiny ImageNet.
// Every random draw of a sample comes from an RNG seeded by sample_key(seed, epoch, index), so
// results never depend on thread count or worker order.
//
// Departures from torchvision (which works on PIL uint8 images): arithmetic is in float with no
// rounding to uint8 between steps; bilinear resampling is PIL's triangle filter (antialiased when
// downscaling), clamped at the crop's border for RandomResizedCrop and at the image's for the
// evaluation resize; with `dct_scaling`, JPEGs are decoded at the smallest DCT scale that keeps the
// crop at least as large as the output, so pixels differ slightly from a full-size decode.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dnas/data/image_codec.h"
#include "dnas/data/rng.h"

namespace dnas::data {

enum class ImageGeometry {
  RandomResizedCrop,  // train: torchvision RandomResizedCrop(size, scale, ratio), bilinear
  ResizeCenterCrop,   // eval: shorter side to `resize` (bilinear), then centre crop size x size
  Whole,              // the whole image resized to size x size (identity for size x size inputs)
};

struct ImageTransform {
  ImageGeometry geometry = ImageGeometry::RandomResizedCrop;
  int64_t size = 224;                                           // output side S
  int64_t resize = 256;                                         // ResizeCenterCrop: shorter side before the crop
  double scale_min = 0.08, scale_max = 1.0;                     // RandomResizedCrop: area fraction range
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;          // RandomResizedCrop: aspect (w/h) range
  double rotation_degrees = 0;                                  // RandomRotation(d): angle uniform in [-d, d]; 0 = off
  bool flip = true;                                             // horizontal flip with p = 0.5
  float brightness = 0, contrast = 0, saturation = 0, hue = 0;  // ColorJitter; 0 = off
  std::vector<float> mean{0.485f, 0.456f, 0.406f}, std{0.229f, 0.224f, 0.225f};  // per channel
  bool dct_scaling = true;  // JPEG: decode at a reduced DCT scale when possible
};

// DARTS's ImageNet training transform: RandomResizedCrop(224), flip,
// ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.2), ImageNet mean/std.
ImageTransform imagenet_train_transform();
// Resize(256) + CenterCrop(224), ImageNet mean/std.
ImageTransform imagenet_eval_transform();
// Tiny ImageNet 64x64: RandomRotation + RandomHorizontalFlip (NASP, appendix B.1). NASP gives no
// angle; dnas uses 20 degrees (kTinyImagenetRotation) and the ImageNet mean/std.
ImageTransform tiny_imagenet_train_transform();
ImageTransform tiny_imagenet_eval_transform();  // 64x64, normalisation only
constexpr double kTinyImagenetRotation = 20.0;

// A box in an image's pixel coordinates (corners: the pixel (y, x) covers [y, y + 1) x [x, x + 1)).
struct CropBox {
  double top = 0, left = 0, height = 0, width = 0;
};

// The key of one sample's draws: splitmix64-mixing of (seed, epoch, sample index).
inline uint64_t sample_key(uint64_t seed, int64_t epoch, int64_t index) {
  return mix_seed(mix_seed(seed, static_cast<uint64_t>(epoch)), static_cast<uint64_t>(index));
}

// Uniform double in [lo, hi) from 53 random bits.
double uniform_real(SplitMix64& rng, double lo, double hi);

// torchvision RandomResizedCrop.get_params on a height x width image: up to 10 attempts
// (area fraction uniform in [scale_min, scale_max], ratio log-uniform in [ratio_min, ratio_max],
// sides rounded half-to-even, position uniform), else the centre crop clamped to the ratio range.
CropBox draw_resized_crop(int64_t height, int64_t width, const ImageTransform& t, SplitMix64& rng);

// Resize(resize) + CenterCrop(size) as one box in the original image's coordinates.
CropBox eval_crop_box(int64_t height, int64_t width, int64_t resize, int64_t size);

// Bilinear (PIL triangle filter) resampling of `box` of `image` to out_h x out_w:
// [out_h, out_w, 3] float in pixel units [0, 255]. clamp_to_box: filter taps stay inside the box
// (a crop, then a resize); otherwise inside the image (a resize, then a crop).
std::vector<float> resample_box(const DecodedImage& image, const CropBox& box, int64_t out_h, int64_t out_w,
                                bool clamp_to_box);

// In-place pieces on [h, w, 3] float RGB buffers with values in [0, 1] (`pixels` = h * w).
void flip_horizontal(float* hwc, int64_t height, int64_t width);
// Counter-clockwise rotation by `degrees` about the centre, nearest neighbour, zero fill.
void rotate_nearest(float* hwc, int64_t height, int64_t width, double degrees);
float gray_value(float r, float g, float b);                       // 0.299 r + 0.587 g + 0.114 b
void adjust_brightness(float* hwc, int64_t pixels, float factor);  // clamp(f x)
void adjust_contrast(float* hwc, int64_t pixels, float factor);    // clamp(f x + (1 - f) mean(gray))
void adjust_saturation(float* hwc, int64_t pixels, float factor);  // clamp(f x + (1 - f) gray(x))
void adjust_hue(float* hwc, int64_t pixels, float shift);          // HSV hue + shift (mod 1)

// Decodes an encoded image and transforms it into out [3, S, S] float32 (normalised).
// train = false: deterministic geometry (no flip, rotation or jitter; RandomResizedCrop becomes
// Resize + CenterCrop). Errors: ImageError naming `name`.
void transform_image(const uint8_t* bytes, size_t size, const std::string& name, const ImageTransform& t, bool train,
                     uint64_t key, float* out);

}  // namespace dnas::data
