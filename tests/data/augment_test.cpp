// Augmentation: exact normalisation, crop/flip as shifted copies, determinism, shard
// invariance and the cutout square.
#include "dnas/data/augment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dnas::data {
namespace {

// Random uint8 images with values in [1, 255], so zero padding is recognisable.
torch::Tensor random_images(int64_t batch, int64_t channels, int64_t side, int64_t seed) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(seed));
  return torch::randint(1, 256, {batch, channels, side, side}, gen, torch::kUInt8);  // [B, C, side, side]
}

AugmentOptions identity_normalisation(int64_t channels) {
  AugmentOptions opt;
  opt.mean.assign(static_cast<size_t>(channels), 0.0f);
  opt.std.assign(static_cast<size_t>(channels), 1.0f);
  return opt;
}

// Image `x` ([C, H, W] uint8) zero-padded by p, cropped at (dy, dx), optionally flipped, / 255.
torch::Tensor shifted(const torch::Tensor& x, int64_t p, int64_t dy, int64_t dx, bool flip) {
  auto padded = torch::constant_pad_nd(x, {p, p, p, p}, 0);              // [C, H + 2p, W + 2p]
  auto crop = padded.narrow(1, dy, x.size(1)).narrow(2, dx, x.size(2));  // [C, H, W]
  if (flip) crop = crop.flip({2});
  return crop.to(torch::kFloat32).div(255);
}

TEST(Augment, EvalIsExactScaleAndNormalise) {
  const auto images = random_images(4, 3, 8, 1);
  AugmentOptions opt;
  opt.mean = {0.49139968f, 0.48215827f, 0.44653124f};
  opt.std = {0.24703233f, 0.24348505f, 0.26158768f};
  opt.cutout = 4;
  const auto out = augment_batch(images, opt, /*train=*/false, 123);
  ASSERT_EQ(out.sizes(), images.sizes());
  ASSERT_EQ(out.scalar_type(), torch::kFloat32);
  const auto in_acc = images.accessor<uint8_t, 4>();
  const auto out_acc = out.accessor<float, 4>();
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 8; ++y)
        for (int64_t x = 0; x < 8; ++x) {
          const float expected = (static_cast<float>(in_acc[b][c][y][x]) / 255.0f - opt.mean[c]) / opt.std[c];
          ASSERT_EQ(out_acc[b][c][y][x], expected) << b << c << y << x;
        }
}

// Every output sample must equal exactly one (shift, flip) of its input; returns the matches.
std::vector<std::tuple<int64_t, int64_t, bool>> find_transforms(const torch::Tensor& images, const torch::Tensor& out,
                                                                int64_t p, bool allow_flip) {
  std::vector<std::tuple<int64_t, int64_t, bool>> found;
  for (int64_t b = 0; b < images.size(0); ++b) {
    bool matched = false;
    for (int flip = 0; flip <= (allow_flip ? 1 : 0) && !matched; ++flip)
      for (int64_t dy = 0; dy <= 2 * p && !matched; ++dy)
        for (int64_t dx = 0; dx <= 2 * p && !matched; ++dx)
          if (torch::equal(out[b], shifted(images[b], p, dy, dx, flip == 1))) {
            matched = true;
            found.emplace_back(dy, dx, flip == 1);
          }
    EXPECT_TRUE(matched) << "sample " << b << " is not a shifted copy of its input";
  }
  return found;
}

TEST(Augment, CropIsAShiftWithZerosEntering) {
  const int64_t p = 2;
  const auto images = random_images(16, 3, 8, 2);
  auto opt = identity_normalisation(3);
  opt.crop_padding = p;
  opt.flip = false;
  const auto found = find_transforms(images, augment_batch(images, opt, true, 7), p, false);
  ASSERT_EQ(found.size(), 16u);
  int64_t distinct = 0;
  for (size_t i = 1; i < found.size(); ++i) distinct += found[i] != found[0];
  EXPECT_GT(distinct, 0) << "all samples drew the same shift";
}

TEST(Augment, FlipAndCropTogether) {
  const int64_t p = 1;
  const auto images = random_images(32, 1, 6, 3);
  auto opt = identity_normalisation(1);
  opt.crop_padding = p;
  const auto found = find_transforms(images, augment_batch(images, opt, true, 11), p, true);
  int64_t flipped = 0;
  for (const auto& t : found) flipped += std::get<2>(t);
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, 32);
}

TEST(Augment, SameKeySameOutputDifferentKeyDifferent) {
  const auto images = random_images(8, 3, 16, 4);
  AugmentOptions opt;
  opt.mean = {0.5f, 0.5f, 0.5f};
  opt.std = {0.25f, 0.25f, 0.25f};
  opt.cutout = 6;
  torch::manual_seed(1);
  const auto a = augment_batch(images, opt, true, 99);
  torch::manual_seed(2);  // the global torch RNG plays no part
  const auto b = augment_batch(images, opt, true, 99);
  const auto c = augment_batch(images, opt, true, 100);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
}

TEST(Augment, ShardOfBatchAugmentsLikeTheWholeBatch) {
  const auto images = random_images(6, 3, 16, 5);
  AugmentOptions opt;
  opt.mean = {0.1f, 0.2f, 0.3f};
  opt.std = {0.5f, 0.6f, 0.7f};
  opt.cutout = 8;
  const auto whole = augment_batch(images, opt, true, 2024);
  const auto shard = augment_batch(images.narrow(0, 2, 2), opt, true, 2024, /*first_index=*/2);
  EXPECT_TRUE(torch::equal(shard, whole.narrow(0, 2, 2)));
  const auto wrong_offset = augment_batch(images.narrow(0, 2, 2), opt, true, 2024, /*first_index=*/0);
  EXPECT_FALSE(torch::equal(wrong_offset, whole.narrow(0, 2, 2)));
}

TEST(Augment, CutoutZeroesAClippedSquare) {
  const int64_t side = 8, size = 32, batch = 24;
  const auto images = torch::full({batch, 3, size, size}, 100, torch::kUInt8);  // [B, 3, 32, 32]
  auto opt = identity_normalisation(3);
  opt.crop_padding = 0;
  opt.flip = false;
  opt.cutout = side;
  const auto out = augment_batch(images, opt, true, 5);
  bool saw_full_square = false, saw_clipped = false;
  for (int64_t b = 0; b < batch; ++b) {
    const auto zero = out[b].eq(0);  // [3, 32, 32] bool
    EXPECT_TRUE(torch::equal(zero[0], zero[1]) && torch::equal(zero[0], zero[2])) << "channels differ";
    const int64_t count = zero[0].sum().item<int64_t>();
    EXPECT_GE(count, (side / 2) * (side / 2));
    EXPECT_LE(count, side * side);
    // The zeros form one rectangle: its bounding box holds exactly `count` positions.
    const auto rows = zero[0].any(1).nonzero(), cols = zero[0].any(0).nonzero();  // [r, 1], [c, 1]
    const int64_t box = (rows.max().item<int64_t>() - rows.min().item<int64_t>() + 1) *
                        (cols.max().item<int64_t>() - cols.min().item<int64_t>() + 1);
    EXPECT_EQ(box, count);
    EXPECT_LE(rows.size(0), side);
    saw_full_square |= count == side * side;
    saw_clipped |= count < side * side;
    // Everything else keeps its value.
    EXPECT_TRUE(out[b].masked_select(zero.logical_not()).eq(100.0f / 255.0f).all().item<bool>());
  }
  EXPECT_TRUE(saw_full_square);
  EXPECT_TRUE(saw_clipped);
}

}  // namespace
}  // namespace dnas::data
