#include "dnas/data/augment.h"

#include <torch/torch.h>

#include <algorithm>

#include "dnas/core/error.h"
#include "dnas/data/rng.h"

namespace dnas::data {
namespace {

// The random choices for one sample. All are always drawn, in this order, so that switching
// one augmentation off does not change the draws of the others.
struct SampleDraw {
  int64_t shift_y, shift_x;  // crop offset into the padded image, in [0, 2 * padding]
  bool flip;
  int64_t centre_y, centre_x;  // cutout centre, uniform over the image
};

SampleDraw draw_sample(uint64_t key, int64_t global_index, int64_t padding, int64_t height, int64_t width) {
  SplitMix64 rng(mix_seed(key, static_cast<uint64_t>(global_index)));
  SampleDraw d{};
  const auto span = static_cast<uint64_t>(2 * padding + 1);
  d.shift_y = static_cast<int64_t>(uniform_below(rng, span));
  d.shift_x = static_cast<int64_t>(uniform_below(rng, span));
  d.flip = (rng() >> 63) != 0;
  d.centre_y = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(height)));
  d.centre_x = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(width)));
  return d;
}

void validate(const torch::Tensor& images, const AugmentOptions& opt, int64_t first_index) {
  const std::string where = "data.augment";
  if (!images.defined() || images.dim() != 4 || images.scalar_type() != torch::kUInt8)
    fail("augment_batch expects [B, C, H, W] uint8 images", where);
  if (opt.crop_padding < 0) fail("crop padding must be >= 0, got " + std::to_string(opt.crop_padding), where);
  if (opt.cutout < 0) fail("cutout must be >= 0, got " + std::to_string(opt.cutout), where);
  if (first_index < 0) fail("first_index must be >= 0", where);
  if (opt.mean.size() != opt.std.size())
    fail("mean has " + std::to_string(opt.mean.size()) + " values but std has " + std::to_string(opt.std.size()),
         where);
  if (!opt.mean.empty() && static_cast<int64_t>(opt.mean.size()) != images.size(1))
    fail(
        "mean/std have " + std::to_string(opt.mean.size()) + " channels, images have " + std::to_string(images.size(1)),
        where, "use the dataset's normalisation constants");
  for (float s : opt.std)
    if (!(s > 0)) fail("std values must be > 0", where);
}

}  // namespace

torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& opt, bool train, uint64_t key,
                            int64_t first_index) {
  validate(images, opt, first_index);
  const auto src = images.to(torch::kCPU).contiguous();  // [B, C, H, W] uint8
  const int64_t batch = src.size(0), channels = src.size(1), height = src.size(2), width = src.size(3);
  const int64_t pad = opt.crop_padding;
  std::vector<SampleDraw> draws;
  if (train)
    for (int64_t i = 0; i < batch; ++i) draws.push_back(draw_sample(key, first_index + i, pad, height, width));

  // Crop and flip in uint8: out[y][x] = padded[y + sy][xc + sx], xc = flip ? W-1-x : x.
  torch::Tensor moved = src;  // [B, C, H, W] uint8
  if (train && (pad > 0 || opt.flip)) {
    moved = torch::empty_like(src);
    const uint8_t* in = src.data_ptr<uint8_t>();
    uint8_t* out = moved.data_ptr<uint8_t>();
    for (int64_t b = 0; b < batch; ++b) {
      const auto& d = draws[static_cast<size_t>(b)];
      const bool flip = opt.flip && d.flip;
      const int64_t oy = d.shift_y - pad, ox = d.shift_x - pad;  // source = destination + offset
      for (int64_t c = 0; c < channels; ++c) {
        const uint8_t* plane = in + (b * channels + c) * height * width;
        uint8_t* dst = out + (b * channels + c) * height * width;
        for (int64_t y = 0; y < height; ++y) {
          const int64_t sy = y + oy;
          uint8_t* dst_row = dst + y * width;
          if (sy < 0 || sy >= height) {
            std::fill(dst_row, dst_row + width, uint8_t{0});
            continue;
          }
          const uint8_t* src_row = plane + sy * width;
          for (int64_t x = 0; x < width; ++x) {
            const int64_t sx = (flip ? width - 1 - x : x) + ox;
            dst_row[x] = (sx >= 0 && sx < width) ? src_row[sx] : uint8_t{0};
          }
        }
      }
    }
  }

  auto result = moved.to(torch::kFloat32).div_(255);  // [B, C, H, W] in [0, 1]
  if (!opt.mean.empty()) {
    const auto mean = torch::tensor(opt.mean, torch::kFloat32).view({1, channels, 1, 1});  // [1, C, 1, 1]
    const auto stdev = torch::tensor(opt.std, torch::kFloat32).view({1, channels, 1, 1});  // [1, C, 1, 1]
    result.sub_(mean).div_(stdev);
  }

  // Cutout after normalisation: zero the clipped square around the centre in every channel.
  if (train && opt.cutout > 0) {
    float* data = result.data_ptr<float>();
    const int64_t half = opt.cutout / 2;
    for (int64_t b = 0; b < batch; ++b) {
      const auto& d = draws[static_cast<size_t>(b)];
      const int64_t y0 = std::max<int64_t>(0, d.centre_y - half), y1 = std::min(height, d.centre_y + half);
      const int64_t x0 = std::max<int64_t>(0, d.centre_x - half), x1 = std::min(width, d.centre_x + half);
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t y = y0; y < y1; ++y) {
          float* row = data + ((b * channels + c) * height + y) * width;
          std::fill(row + x0, row + std::max(x0, x1), 0.0f);
        }
    }
  }
  return result;
}

}  // namespace dnas::data
