// BatchStream: epoch coverage, drop_last, per-epoch order, sharding, endless iteration.
#include "dnas/data/batch_stream.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "dnas/core/error.h"

namespace dnas::data {
namespace {

// 20 examples; image i is filled with the value i and its label is i % 10.
ImageSet numbered_set(int64_t n = 20) {
  ImageSet set;
  set.images = torch::arange(n, torch::kUInt8).view({n, 1, 1, 1}).expand({n, 1, 2, 2}).contiguous();  // [n, 1, 2, 2]
  set.labels = torch::arange(n, torch::kInt64).remainder(10);                                         // [n]
  return set;
}

// Example ids of the epoch's batches, read back from the pixel values.
std::vector<std::vector<int64_t>> epoch_ids(BatchStream& stream, int64_t epoch) {
  stream.start_epoch(epoch);
  std::vector<std::vector<int64_t>> batches;
  Batch b;
  while (stream.next(b)) {
    const auto ids = b.images.select(1, 0).select(1, 0).select(1, 0).to(torch::kInt64);  // [B]
    batches.emplace_back(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  }
  return batches;
}

TEST(BatchStream, EpochCoversEveryIndexOnce) {
  const auto set = numbered_set();
  const auto indices = torch::arange(3, 17, torch::kInt64);  // 14 examples
  BatchStream stream(set, indices, 4, 1, /*shuffle=*/true);
  EXPECT_EQ(stream.batches_per_epoch(), 4);
  const auto batches = epoch_ids(stream, 0);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches.back().size(), 2u);  // final short batch kept
  std::multiset<int64_t> seen;
  for (const auto& b : batches) seen.insert(b.begin(), b.end());
  std::multiset<int64_t> expected;
  for (int64_t i = 3; i < 17; ++i) expected.insert(i);
  EXPECT_EQ(seen, expected);
}

TEST(BatchStream, LabelsFollowImages) {
  const auto set = numbered_set();
  BatchStream stream(set, torch::arange(20, torch::kInt64), 6, 3, true);
  Batch b;
  ASSERT_TRUE(stream.next(b));
  const auto ids = b.images.select(1, 0).select(1, 0).select(1, 0).to(torch::kInt64);  // [6]
  EXPECT_TRUE(torch::equal(b.labels, ids.remainder(10)));
}

TEST(BatchStream, DropLast) {
  const auto set = numbered_set();
  BatchStream keep(set, torch::arange(14, torch::kInt64), 4, 0, false);
  BatchStream drop(set, torch::arange(14, torch::kInt64), 4, 0, false, /*drop_last=*/true);
  EXPECT_EQ(keep.batches_per_epoch(), 4);
  EXPECT_EQ(drop.batches_per_epoch(), 3);
  const auto batches = epoch_ids(drop, 0);
  ASSERT_EQ(batches.size(), 3u);
  for (const auto& b : batches) EXPECT_EQ(b.size(), 4u);
  EXPECT_EQ(batches[2], (std::vector<int64_t>{8, 9, 10, 11}));  // no shuffle: dataset order
}

TEST(BatchStream, OrderDependsOnSeedAndEpochOnly) {
  const auto set = numbered_set();
  const auto indices = torch::arange(20, torch::kInt64);
  BatchStream a(set, indices, 5, 42, true), b(set, indices, 5, 42, true), c(set, indices, 5, 43, true);
  torch::manual_seed(0);
  const auto a1 = epoch_ids(a, 1);
  torch::manual_seed(1);
  EXPECT_EQ(a1, epoch_ids(b, 1));
  EXPECT_NE(a1, epoch_ids(a, 2));
  EXPECT_NE(a1, epoch_ids(c, 1));
  // Keys: same (seed, epoch, batch) -> same key; another batch or epoch -> another key.
  Batch x, y;
  a.start_epoch(1);
  b.start_epoch(1);
  a.next(x);
  b.next(y);
  EXPECT_EQ(x.key, y.key);
  b.next(y);
  EXPECT_NE(x.key, y.key);
  b.start_epoch(2);
  b.next(y);
  EXPECT_NE(x.key, y.key);
}

TEST(BatchStream, ShardsConcatenateToTheGlobalBatch) {
  const auto set = numbered_set();
  const auto indices = torch::arange(20, torch::kInt64);
  BatchStream whole(set, indices, 7, 5, true), rank0(set, indices, 7, 5, true), rank1(set, indices, 7, 5, true);
  rank0.set_shard(0, 2);
  rank1.set_shard(1, 2);
  for (int64_t epoch : {0, 1}) {
    whole.start_epoch(epoch);
    rank0.start_epoch(epoch);
    rank1.start_epoch(epoch);
    Batch w, r0, r1;
    int64_t batches = 0;
    while (whole.next(w)) {
      ASSERT_TRUE(rank0.next(r0));
      ASSERT_TRUE(rank1.next(r1));
      EXPECT_TRUE(torch::equal(torch::cat({r0.images, r1.images}), w.images));
      EXPECT_TRUE(torch::equal(torch::cat({r0.labels, r1.labels}), w.labels));
      EXPECT_EQ(r0.key, w.key);
      EXPECT_EQ(r1.key, w.key);
      EXPECT_EQ(r0.first_index, 0);
      EXPECT_EQ(r1.first_index, w.images.size(0) / 2);
      ++batches;
    }
    EXPECT_EQ(batches, 3);  // 7 + 7 + 6
    EXPECT_FALSE(rank0.next(r0));
    EXPECT_FALSE(rank1.next(r1));
  }
  EXPECT_THROW(rank0.set_shard(2, 2), Error);
}

TEST(BatchStream, NextEndlessCrossesEpochs) {
  const auto set = numbered_set();
  BatchStream stream(set, torch::arange(10, torch::kInt64), 4, 9, true);
  ASSERT_EQ(stream.batches_per_epoch(), 3);
  std::multiset<int64_t> first_epoch;
  for (int i = 0; i < 10; ++i) {
    const Batch b = stream.next_endless();
    EXPECT_GT(b.images.size(0), 0);
    EXPECT_EQ(stream.epoch(), i / 3);
    EXPECT_EQ(stream.position(), i % 3 + 1);
    if (i < 3)
      for (int64_t k = 0; k < b.labels.size(0); ++k) first_epoch.insert(b.labels[k].item<int64_t>());
  }
  EXPECT_EQ(first_epoch.size(), 10u);
  // Resuming at (epoch, position) continues with the same batch as an uninterrupted stream.
  BatchStream fresh(set, torch::arange(10, torch::kInt64), 4, 9, true);
  fresh.seek(stream.epoch(), stream.position());
  const Batch expected = stream.next_endless(), resumed = fresh.next_endless();
  EXPECT_TRUE(torch::equal(expected.images, resumed.images));
  EXPECT_EQ(expected.key, resumed.key);
  // A stream that can never yield a batch is an error, not an endless loop.
  BatchStream empty(set, torch::arange(3, torch::kInt64), 4, 0, false, /*drop_last=*/true);
  EXPECT_THROW(empty.next_endless(), Error);
}

}  // namespace
}  // namespace dnas::data
