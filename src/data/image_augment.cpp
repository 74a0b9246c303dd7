#include "dnas/data/image_augment.h"

#include <algorithm>
#include <cmath>

#include "dnas/core/error.h"

namespace dnas::data {
namespace {

// Domain separation: each augmentation draws from its own stream of the sample's key, so turning
// one off leaves the others' draws unchanged.
constexpr uint64_t kCropStream = 1, kRotationStream = 2, kFlipStream = 3, kJitterStream = 4;

// One axis of a resampling: for output i, `count[i]` taps starting at input `first[i]` with
// weights w[i * max_taps + k] (normalised to sum 1).
struct AxisTaps {
  std::vector<int64_t> first, count;
  std::vector<float> w;
  int64_t max_taps = 0;
};

// PIL's triangle-filter coefficients: centre of output i at start + (i + 0.5) * scale, support
// max(scale, 1), taps limited to [lo, hi).
AxisTaps axis_taps(double start, double length, int64_t out, int64_t lo, int64_t hi) {
  const double scale = length / static_cast<double>(out);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;
  AxisTaps t;
  t.max_taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(out);
  t.count.resize(out);
  t.w.assign(static_cast<size_t>(out * t.max_taps), 0.0f);
  for (int64_t i = 0; i < out; ++i) {
    const double centre = start + (static_cast<double>(i) + 0.5) * scale;
    int64_t x0 = std::max(static_cast<int64_t>(std::floor(centre - support + 0.5)), lo);
    int64_t x1 = std::min(static_cast<int64_t>(std::floor(centre + support + 0.5)), hi);
    x1 = std::min(x1, x0 + t.max_taps);
    double sum = 0;
    const int64_t n = std::max<int64_t>(x1 - x0, 0);
    std::vector<double> weights(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
      const double arg = (static_cast<double>(x0 + k) - centre + 0.5) / filter_scale;
      weights[static_cast<size_t>(k)] = std::max(0.0, 1.0 - std::abs(arg));
      sum += weights[static_cast<size_t>(k)];
    }
    if (sum <= 0) {  // degenerate box: nearest pixel
      x0 = std::clamp(static_cast<int64_t>(std::floor(centre)), lo, hi - 1);
      t.first[i] = x0, t.count[i] = 1, t.w[i * t.max_taps] = 1.0f;
      continue;
    }
    t.first[i] = x0;
    t.count[i] = n;
    for (int64_t k = 0; k < n; ++k) t.w[i * t.max_taps + k] = static_cast<float>(weights[k] / sum);
  }
  return t;
}

void normalise_into(const float* hwc, int64_t side, const ImageTransform& t, float* out) {
  const int64_t plane = side * side;
  for (int64_t c = 0; c < 3; ++c) {
    const float mean = t.mean[c], inv_std = 1.0f / t.std[c];
    float* dst = out + c * plane;
    for (int64_t p = 0; p < plane; ++p) dst[p] = (hwc[p * 3 + c] - mean) * inv_std;
  }
}

void validate_transform(const ImageTransform& t) {
  const std::string where = "data.image_transform";
  if (t.size <= 0) fail("output size must be > 0, got " + std::to_string(t.size), where);
  if (t.geometry != ImageGeometry::Whole && t.resize < t.size)
    fail("resize (" + std::to_string(t.resize) + ") must be >= size (" + std::to_string(t.size) + ")", where);
  if (!(t.scale_min > 0 && t.scale_min <= t.scale_max && t.ratio_min > 0 && t.ratio_min <= t.ratio_max))
    fail("invalid RandomResizedCrop scale/ratio ranges", where, "need 0 < min <= max");
  if (t.mean.size() != 3 || t.std.size() != 3) fail("mean and std need 3 values (RGB)", where);
  for (float s : t.std)
    if (!(s > 0)) fail("std values must be > 0", where);
  if (t.brightness < 0 || t.contrast < 0 || t.saturation < 0 || t.hue < 0 || t.hue > 0.5f)
    fail("colour jitter factors must be >= 0 (hue <= 0.5)", where);
}

void jitter(float* hwc, int64_t pixels, const ImageTransform& t, SplitMix64& rng) {
  std::vector<int> order{0, 1, 2, 3};
  fisher_yates(order, rng);
  auto factor = [&](float amount) {
    return amount > 0 ? static_cast<float>(uniform_real(rng, std::max(0.0, 1.0 - amount), 1.0 + amount)) : 1.0f;
  };
  const float b = factor(t.brightness), c = factor(t.contrast), s = factor(t.saturation);
  const float h = t.hue > 0 ? static_cast<float>(uniform_real(rng, -t.hue, t.hue)) : 0.0f;
  for (int op : order) {
    if (op == 0 && t.brightness > 0) adjust_brightness(hwc, pixels, b);
    if (op == 1 && t.contrast > 0) adjust_contrast(hwc, pixels, c);
    if (op == 2 && t.saturation > 0) adjust_saturation(hwc, pixels, s);
    if (op == 3 && t.hue > 0) adjust_hue(hwc, pixels, h);
  }
}

}  // namespace

ImageTransform imagenet_train_transform() {
  ImageTransform t;
  t.brightness = t.contrast = t.saturation = 0.4f;
  t.hue = 0.2f;
  return t;
}

ImageTransform imagenet_eval_transform() {
  ImageTransform t;
  t.geometry = ImageGeometry::ResizeCenterCrop;
  return t;
}

ImageTransform tiny_imagenet_train_transform() {
  ImageTransform t;
  t.geometry = ImageGeometry::Whole;
  t.size = 64;
  t.rotation_degrees = kTinyImagenetRotation;
  return t;
}

ImageTransform tiny_imagenet_eval_transform() {
  ImageTransform t = tiny_imagenet_train_transform();
  t.rotation_degrees = 0;
  t.flip = false;
  return t;
}

double uniform_real(SplitMix64& rng, double lo, double hi) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
  return lo + (hi - lo) * u;
}

CropBox draw_resized_crop(int64_t height, int64_t width, const ImageTransform& t, SplitMix64& rng) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(t.ratio_min), log_hi = std::log(t.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * uniform_real(rng, t.scale_min, t.scale_max);
    const double ratio = std::exp(uniform_real(rng, log_lo, log_hi));
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target * ratio)));  // half to even
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target / ratio)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const auto top = static_cast<double>(uniform_below(rng, static_cast<uint64_t>(height - h + 1)));
      const auto left = static_cast<double>(uniform_below(rng, static_cast<uint64_t>(width - w + 1)));
      return {top, left, static_cast<double>(h), static_cast<double>(w)};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed ratio, centred.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < t.ratio_min) {
    h = static_cast<int64_t>(std::nearbyint(static_cast<double>(w) / t.ratio_min));
  } else if (in_ratio > t.ratio_max) {
    w = static_cast<int64_t>(std::nearbyint(static_cast<double>(h) * t.ratio_max));
  }
  return {static_cast<double>((height - h) / 2), static_cast<double>((width - w) / 2), static_cast<double>(h),
          static_cast<double>(w)};
}

CropBox eval_crop_box(int64_t height, int64_t width, int64_t resize, int64_t size) {
  // Resize(resize): the shorter side becomes `resize`, the longer one int(resize * long / short).
  int64_t new_h = resize, new_w = resize;
  if (width <= height)
    new_h = static_cast<int64_t>(static_cast<double>(resize) * height / width);
  else
    new_w = static_cast<int64_t>(static_cast<double>(resize) * width / height);
  // CenterCrop(size): offsets int(round((new - size) / 2)), half to even.
  const auto top = std::nearbyint(static_cast<double>(new_h - size) / 2.0);
  const auto left = std::nearbyint(static_cast<double>(new_w - size) / 2.0);
  const double sy = static_cast<double>(height) / new_h, sx = static_cast<double>(width) / new_w;
  return {top * sy, left * sx, size * sy, size * sx};
}

std::vector<float> resample_box(const DecodedImage& image, const CropBox& box, int64_t out_h, int64_t out_w,
                                bool clamp_to_box) {
  const int64_t height = image.height, width = image.width;
  int64_t y_lo = 0, y_hi = height, x_lo = 0, x_hi = width;
  if (clamp_to_box) {
    y_lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(box.top)));
    x_lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(box.left)));
    y_hi = std::min(height, static_cast<int64_t>(std::ceil(box.top + box.height)));
    x_hi = std::min(width, static_cast<int64_t>(std::ceil(box.left + box.width)));
  }
  if (y_hi <= y_lo || x_hi <= x_lo) fail("empty resampling box", "data.image_transform");
  const AxisTaps ys = axis_taps(box.top, box.height, out_h, y_lo, y_hi);
  const AxisTaps xs = axis_taps(box.left, box.width, out_w, x_lo, x_hi);
  const int64_t row0 = *std::min_element(ys.first.begin(), ys.first.end());
  int64_t row1 = row0;
  for (int64_t i = 0; i < out_h; ++i) row1 = std::max(row1, ys.first[i] + ys.count[i]);

  // Horizontal pass over the needed rows: rows [row1 - row0, out_w, 3].
  std::vector<float> rows(static_cast<size_t>((row1 - row0) * out_w * 3));
  const uint8_t* px = image.pixels.data();
  for (int64_t y = row0; y < row1; ++y) {
    const uint8_t* src = px + y * width * 3;
    float* dst = rows.data() + (y - row0) * out_w * 3;
    for (int64_t x = 0; x < out_w; ++x) {
      float r = 0, g = 0, b = 0;
      const float* w = xs.w.data() + x * xs.max_taps;
      const uint8_t* s = src + xs.first[x] * 3;
      for (int64_t k = 0; k < xs.count[x]; ++k, s += 3) r += w[k] * s[0], g += w[k] * s[1], b += w[k] * s[2];
      dst[x * 3] = r, dst[x * 3 + 1] = g, dst[x * 3 + 2] = b;
    }
  }
  // Vertical pass: out [out_h, out_w, 3].
  std::vector<float> out(static_cast<size_t>(out_h * out_w * 3), 0.0f);
  for (int64_t y = 0; y < out_h; ++y) {
    float* dst = out.data() + y * out_w * 3;
    const float* w = ys.w.data() + y * ys.max_taps;
    for (int64_t k = 0; k < ys.count[y]; ++k) {
      const float* src = rows.data() + (ys.first[y] + k - row0) * out_w * 3;
      for (int64_t i = 0; i < out_w * 3; ++i) dst[i] += w[k] * src[i];
    }
  }
  return out;
}

void flip_horizontal(float* hwc, int64_t height, int64_t width) {
  for (int64_t y = 0; y < height; ++y) {
    float* row = hwc + y * width * 3;
    for (int64_t x = 0; x < width / 2; ++x)
      for (int64_t c = 0; c < 3; ++c) std::swap(row[x * 3 + c], row[(width - 1 - x) * 3 + c]);
  }
}

void rotate_nearest(float* hwc, int64_t height, int64_t width, double degrees) {
  const std::vector<float> src(hwc, hwc + height * width * 3);
  const double a = degrees * M_PI / 180.0, cs = std::cos(a), sn = std::sin(a);
  const double cy = height / 2.0, cx = width / 2.0;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      // Output pixel centre -> source point: the inverse of a counter-clockwise rotation (y down).
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const auto sx = static_cast<int64_t>(std::floor(cx + cs * dx - sn * dy));
      const auto sy = static_cast<int64_t>(std::floor(cy + sn * dx + cs * dy));
      float* dst = hwc + (y * width + x) * 3;
      const bool inside = sx >= 0 && sx < width && sy >= 0 && sy < height;
      for (int64_t c = 0; c < 3; ++c) dst[c] = inside ? src[(sy * width + sx) * 3 + c] : 0.0f;
    }
}

float gray_value(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

void adjust_brightness(float* hwc, int64_t pixels, float factor) {
  for (int64_t i = 0; i < pixels * 3; ++i) hwc[i] = std::clamp(hwc[i] * factor, 0.0f, 1.0f);
}

void adjust_contrast(float* hwc, int64_t pixels, float factor) {
  double sum = 0;
  for (int64_t p = 0; p < pixels; ++p) sum += gray_value(hwc[p * 3], hwc[p * 3 + 1], hwc[p * 3 + 2]);
  const float offset = (1.0f - factor) * static_cast<float>(sum / static_cast<double>(pixels));
  for (int64_t i = 0; i < pixels * 3; ++i) hwc[i] = std::clamp(factor * hwc[i] + offset, 0.0f, 1.0f);
}

void adjust_saturation(float* hwc, int64_t pixels, float factor) {
  for (int64_t p = 0; p < pixels; ++p) {
    float* v = hwc + p * 3;
    const float offset = (1.0f - factor) * gray_value(v[0], v[1], v[2]);
    for (int64_t c = 0; c < 3; ++c) v[c] = std::clamp(factor * v[c] + offset, 0.0f, 1.0f);
  }
}

void adjust_hue(float* hwc, int64_t pixels, float shift) {
  for (int64_t p = 0; p < pixels; ++p) {
    float* v = hwc + p * 3;
    const float r = v[0], g = v[1], b = v[2];
    const float maxc = std::max({r, g, b}), minc = std::min({r, g, b});
    const float range = maxc - minc;
    if (range <= 0) continue;  // gray: hue has no effect
    const float sat = range / maxc;
    const float rc = (maxc - r) / range, gc = (maxc - g) / range, bc = (maxc - b) / range;
    float h = maxc == r ? bc - gc : (maxc == g ? 2.0f + rc - bc : 4.0f + gc - rc);
    h = h / 6.0f + shift;
    h -= std::floor(h);  // mod 1
    const float h6 = h * 6.0f;
    const float sector = std::floor(h6), f = h6 - sector;
    const float pv = std::clamp(maxc * (1.0f - sat), 0.0f, 1.0f);
    const float qv = std::clamp(maxc * (1.0f - sat * f), 0.0f, 1.0f);
    const float tv = std::clamp(maxc * (1.0f - sat * (1.0f - f)), 0.0f, 1.0f);
    switch (static_cast<int>(sector) % 6) {
      case 0:
        v[0] = maxc, v[1] = tv, v[2] = pv;
        break;
      case 1:
        v[0] = qv, v[1] = maxc, v[2] = pv;
        break;
      case 2:
        v[0] = pv, v[1] = maxc, v[2] = tv;
        break;
      case 3:
        v[0] = pv, v[1] = qv, v[2] = maxc;
        break;
      case 4:
        v[0] = tv, v[1] = pv, v[2] = maxc;
        break;
      default:
        v[0] = maxc, v[1] = pv, v[2] = qv;
        break;
    }
  }
}

void transform_image(const uint8_t* bytes, size_t size, const std::string& name, const ImageTransform& t, bool train,
                     uint64_t key, float* out) {
  validate_transform(t);
  const ImageHeader header = read_image_header(bytes, size, name);
  const int64_t height = header.height, width = header.width, side = t.size;
  const bool random_crop = train && t.geometry == ImageGeometry::RandomResizedCrop;
  CropBox box{0, 0, static_cast<double>(height), static_cast<double>(width)};
  if (random_crop) {
    SplitMix64 rng(mix_seed(key, kCropStream));
    box = draw_resized_crop(height, width, t, rng);
  } else if (t.geometry != ImageGeometry::Whole) {
    box = eval_crop_box(height, width, t.resize, side);
  }
  // Smallest decode that keeps the box at least side x side pixels (JPEG DCT scaling).
  int64_t min_h = 0, min_w = 0;
  if (t.dct_scaling && header.format == ImageFormat::Jpeg) {
    const double f = std::min(1.0, std::max(side / box.height, side / box.width));
    min_h = static_cast<int64_t>(std::ceil(height * f - 1e-9));
    min_w = static_cast<int64_t>(std::ceil(width * f - 1e-9));
  }
  const DecodedImage image = decode_image(bytes, size, name, min_h, min_w);
  const double ry = static_cast<double>(image.height) / height, rx = static_cast<double>(image.width) / width;
  const CropBox scaled{box.top * ry, box.left * rx, box.height * ry, box.width * rx};
  std::vector<float> hwc = resample_box(image, scaled, side, side, random_crop);  // [S, S, 3] in [0, 255]
  for (float& v : hwc) v *= 1.0f / 255.0f;
  if (train) {
    if (t.rotation_degrees > 0) {
      SplitMix64 rng(mix_seed(key, kRotationStream));
      rotate_nearest(hwc.data(), side, side, uniform_real(rng, -t.rotation_degrees, t.rotation_degrees));
    }
    SplitMix64 flip_rng(mix_seed(key, kFlipStream));
    if (t.flip && (flip_rng() >> 63) != 0) flip_horizontal(hwc.data(), side, side);
    if (t.brightness > 0 || t.contrast > 0 || t.saturation > 0 || t.hue > 0) {
      SplitMix64 rng(mix_seed(key, kJitterStream));
      jitter(hwc.data(), side * side, t, rng);
    }
  }
  normalise_into(hwc.data(), side, t, out);
}

}  // namespace dnas::data
