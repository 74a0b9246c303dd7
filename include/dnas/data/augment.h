#pragma once
// Batched training augmentation on uint8 image tensors: random crop, horizontal flip,
// normalisation and cutout. Deterministic per (key, sample index) and shard-invariant.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace dnas::data {

struct AugmentOptions {
  int64_t crop_padding = 4;      // zero padding before the random HxW crop; 0 = no random crop
  bool flip = true;              // random horizontal flip with p = 0.5
  int64_t cutout = 0;            // cutout square side; 0 = off
  std::vector<float> mean, std;  // per channel; empty = no normalisation beyond scaling to [0, 1]
};

// images [B, C, H, W] uint8 -> [B, C, H, W] float32.
// train: crop (pad, then crop at a uniform offset), flip, scale to [0, 1], normalise, cutout
//        (zero rows [cy - side/2, cy + side/2) x the same for columns, clipped; all channels).
// !train: scale and normalise only.
// Sample i draws from an RNG seeded by splitmix64-mixing (key, first_index + i), so a shard
// whose first row is row `first_index` of a global batch augments exactly like those rows.
torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& opt, bool train, uint64_t key,
                            int64_t first_index = 0);

}  // namespace dnas::data
