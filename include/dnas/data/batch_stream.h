#pragma once
// Iterates the batches of a subset of an ImageSet, epoch by epoch, with optional per-epoch
// shuffling and data-parallel sharding. Order and batch keys depend only on (seed, epoch).
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dnas/data/dataset.h"

namespace dnas::data {

struct Batch {
  torch::Tensor images;     // [B, C, H, W] uint8
  torch::Tensor labels;     // [B] int64
  uint64_t key = 0;         // augmentation key: a function of (seed, epoch, batch number)
  int64_t first_index = 0;  // offset of these rows in the global batch (for augment_batch)
};

class BatchStream {
 public:
  // indices: [n] int64 into `set`. shuffle: a new order each epoch from (seed, epoch).
  // drop_last: drop a final batch shorter than batch_size. Starts at epoch 0, position 0.
  BatchStream(const ImageSet& set, torch::Tensor indices, int64_t batch_size, uint64_t seed, bool shuffle,
              bool drop_last = false);

  // Every rank walks the same global batches; rank r of `world` gets rows
  // [r*B/world, (r+1)*B/world) of each (B = that batch's size).
  void set_shard(int rank, int world);

  int64_t batches_per_epoch() const;
  void start_epoch(int64_t epoch);             // resets the position and draws the epoch's order
  bool next(Batch& out);                       // false once the epoch is exhausted
  Batch next_endless();                        // moves on to the next epoch when one is exhausted
  void seek(int64_t epoch, int64_t position);  // resume: start_epoch(epoch), skip `position` batches

  int64_t position() const { return position_; }  // batches already taken this epoch
  int64_t epoch() const { return epoch_; }
  int64_t size() const { return static_cast<int64_t>(indices_.size()); }

 private:
  torch::Tensor images_;          // [N, C, H, W] uint8, the whole set (shared storage)
  torch::Tensor labels_;          // [N] int64
  std::vector<int64_t> indices_;  // [n] the stream's examples
  std::vector<int64_t> order_;    // [n] this epoch's order
  int64_t batch_size_;
  uint64_t seed_;
  bool shuffle_, drop_last_;
  int rank_ = 0, world_ = 1;
  int64_t epoch_ = 0, position_ = 0;
};

}  // namespace dnas::data
