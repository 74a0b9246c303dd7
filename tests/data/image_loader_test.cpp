#include "dnas/data/image_loader.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "dnas/core/error.h"
#include "test_files.h"

namespace dnas::data {
namespace stream_test {  // defined in tar_shards_test.cpp
std::vector<ImageFile> write_fashion_mnist(const std::string& dir, int64_t n, const std::string& ext, int classes,
                                           int scale = 1);
}  // namespace stream_test
namespace {

// Samples labelled by their position, so batches show which samples they hold.
std::vector<ImageFile> numbered_samples(const std::string& dir, int64_t n) {
  auto files = stream_test::write_fashion_mnist(dir, n, "mixed", 4);
  for (size_t i = 0; i < files.size(); ++i) files[i].label = static_cast<int64_t>(i);
  return files;
}

ImageLoaderOptions small_options(int threads) {
  ImageLoaderOptions o;
  o.batch_size = 8;
  o.seed = 11;
  o.threads = threads;
  o.prefetch = 2;
  o.transform = imagenet_train_transform();
  o.transform.size = 24, o.transform.resize = 28;
  return o;
}

std::vector<ImageBatch> whole_epoch(ImageLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<ImageBatch> out;
  for (ImageBatch b; loader.next(b);) out.push_back(b);
  return out;
}

void expect_same_batches(const std::vector<ImageBatch>& a, const std::vector<ImageBatch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i].images, b[i].images)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].labels, b[i].labels)) << "batch " << i;
  }
}

std::vector<int64_t> labels_of(const std::vector<ImageBatch>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches)
    for (int64_t i = 0; i < b.labels.size(0); ++i) out.push_back(b.labels[i].item<int64_t>());
  return out;
}

TEST(ImageLoader, FolderBatchesAreIdenticalFor1To4Threads) {
  test_files::TempDir tmp;
  const auto files = numbered_samples(tmp.path(), 30);
  ImageLoader one(files, small_options(1));
  const auto reference = whole_epoch(one, 1);
  ASSERT_EQ(reference.size(), 4u);  // 8 + 8 + 8 + 6
  EXPECT_EQ(reference[0].images.sizes(), (std::vector<int64_t>{8, 3, 24, 24}));
  EXPECT_EQ(reference[3].labels.size(0), 6);
  for (int threads : {2, 4}) {
    ImageLoader loader(files, small_options(threads));
    expect_same_batches(whole_epoch(loader, 1), reference);
  }
  expect_same_batches(whole_epoch(one, 1), reference);  // the same epoch again
  auto labels = labels_of(reference);
  EXPECT_NE(labels_of(whole_epoch(one, 2)), labels) << "a new order each epoch";
  std::sort(labels.begin(), labels.end());
  for (int64_t i = 0; i < 30; ++i) EXPECT_EQ(labels[static_cast<size_t>(i)], i);
  const LoaderEpochStats stats = one.stats();
  EXPECT_EQ(stats.epoch, 2);
  EXPECT_EQ(stats.batches, 4);
  EXPECT_EQ(stats.samples, 30);
  EXPECT_EQ(stats.skipped, 0);
  EXPECT_GE(stats.wait_seconds, 0.0);
}

TEST(ImageLoader, FolderRankShardsAreDisjointSlicesOfTheGlobalBatches) {
  test_files::TempDir tmp;
  const auto files = numbered_samples(tmp.path(), 21);
  auto options = small_options(2);
  ImageLoader whole(files, options);
  const auto global = whole_epoch(whole, 0);
  std::vector<std::vector<ImageBatch>> ranks;
  for (int r = 0; r < 3; ++r) {
    auto o = options;
    o.rank = r, o.world = 3;
    ImageLoader loader(files, o);
    ranks.push_back(whole_epoch(loader, 0));
    ASSERT_EQ(ranks.back().size(), global.size());
  }
  for (size_t b = 0; b < global.size(); ++b) {
    std::vector<torch::Tensor> images, labels;
    for (const auto& rank : ranks) images.push_back(rank[b].images), labels.push_back(rank[b].labels);
    EXPECT_TRUE(torch::equal(torch::cat(images), global[b].images)) << "batch " << b;
    EXPECT_TRUE(torch::equal(torch::cat(labels), global[b].labels)) << "batch " << b;
  }
}

TEST(ImageLoader, ShardRanksAreDisjointDeterministicAndCoverTheEpoch) {
  test_files::TempDir tmp;
  const auto files = numbered_samples(tmp.file("in"), 40);
  write_shards(files, {}, tmp.file("shards/train"), 12000, 1);
  const ShardIndex index = read_shard_index(tmp.file("shards/train"));
  ASSERT_GE(index.shards.size(), 4u);
  auto options = small_options(1);
  options.shuffle_buffer = 5;
  ImageLoader one(index, options);
  const auto reference = whole_epoch(one, 0);
  options.threads = 4;
  ImageLoader four(index, options);
  expect_same_batches(whole_epoch(four, 0), reference);
  auto all = labels_of(reference);
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 40u);
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(all[static_cast<size_t>(i)], i);
  EXPECT_NE(labels_of(whole_epoch(four, 1)), labels_of(reference));

  std::set<int64_t> seen;
  int64_t left_out = 0;
  std::vector<int64_t> batch_counts;
  for (int r = 0; r < 2; ++r) {
    auto o = options;
    o.rank = r, o.world = 2;
    ImageLoader loader(index, o);
    const auto batches = whole_epoch(loader, 3);
    batch_counts.push_back(static_cast<int64_t>(batches.size()));
    for (int64_t label : labels_of(batches)) EXPECT_TRUE(seen.insert(label).second) << "label " << label << " twice";
    left_out += loader.stats().left_out;
  }
  EXPECT_EQ(batch_counts[0], batch_counts[1]);
  EXPECT_EQ(static_cast<int64_t>(seen.size()) + left_out, 40);

  auto too_many = options;
  too_many.world = static_cast<int>(index.shards.size()) + 1;
  EXPECT_THROW(ImageLoader(index, too_many), Error);
}

// A resumed epoch (start at batch k) yields exactly the batches k.. of a start at 0.
TEST(ImageLoader, StartingMidEpochGivesTheRemainingBatchesOfAFullEpoch) {
  test_files::TempDir tmp;
  const auto files = numbered_samples(tmp.file("in"), 40);
  write_shards(files, {}, tmp.file("shards/train"), 12000, 1);
  auto options = small_options(2);
  options.shuffle_buffer = 5;
  ImageLoader folder(files, options);
  ImageLoader shards(read_shard_index(tmp.file("shards/train")), options);
  for (ImageLoader* loader : {&folder, &shards}) {
    const auto full = whole_epoch(*loader, 2);
    ASSERT_EQ(full.size(), 5u);
    loader->start_epoch(2, 3);
    EXPECT_EQ(loader->batches_per_epoch(), 5);
    std::vector<ImageBatch> rest;
    for (ImageBatch b; loader->next(b);) rest.push_back(b);
    ASSERT_EQ(rest.size(), 2u);
    for (size_t i = 0; i < rest.size(); ++i) {
      EXPECT_EQ(rest[i].index, full[i + 3].index);
      EXPECT_TRUE(torch::equal(rest[i].images, full[i + 3].images)) << "batch " << i + 3;
      EXPECT_TRUE(torch::equal(rest[i].labels, full[i + 3].labels)) << "batch " << i + 3;
    }
    loader->start_epoch(2, 9);  // past the end: an empty epoch
    ImageBatch b;
    EXPECT_FALSE(loader->next(b));
  }
}

TEST(ImageLoader, BadImagesFailOrAreSkippedAndCounted) {
  test_files::TempDir tmp;
  auto files = numbered_samples(tmp.path(), 12);
  test_files::write_bytes(tmp.file("broken.jpg"), {0xff, 0xd8, 0xff, 0x00, 0x12});
  files[5].path = tmp.file("broken.jpg");
  auto options = small_options(3);
  options.shuffle = false;
  ImageLoader strict(files, options);
  ImageBatch batch;
  try {
    strict.next(batch);
    FAIL() << "the broken image was not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.jpg"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(strict.next(batch));  // the epoch ended with the error

  options.skip_bad_images = true;
  ImageLoader lenient(files, options);
  const auto batches = whole_epoch(lenient, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].images.size(0), 7);
  EXPECT_EQ(lenient.skipped(), 1);
  EXPECT_EQ(lenient.stats().samples, 11);
}

TEST(ImageLoader, ShardReadErrorsReachNextAndStoppingMidEpochJoins) {
  test_files::TempDir tmp;
  const auto files = numbered_samples(tmp.file("in"), 12);
  const ShardIndex index = write_shards(files, {}, tmp.file("s"), 1 << 20, 0);
  ASSERT_EQ(index.shards.size(), 1u);
  std::vector<uint8_t> bytes(static_cast<size_t>(std::filesystem::file_size(index.shard_path(0))));
  std::ifstream(index.shard_path(0), std::ios::binary).read(reinterpret_cast<char*>(bytes.data()), bytes.size());
  bytes.resize(bytes.size() / 2);
  test_files::write_bytes(index.shard_path(0), bytes);
  ImageLoader loader(index, small_options(2));
  std::string what = "<no error>";
  try {
    for (ImageBatch b; loader.next(b);) {
    }
  } catch (const Error& e) {
    what = e.what();
  }
  EXPECT_NE(what.find(index.shard_path(0)), std::string::npos) << what;
  // The same error when it falls among the batches a resumed epoch skips (12 samples: batches 8 + 4,
  // the shard ends inside the first): next() raises it instead of waiting for batch 1.
  loader.start_epoch(0, 1);
  what = "<no error>";
  try {
    for (ImageBatch b; loader.next(b);) {
    }
  } catch (const Error& e) {
    what = e.what();
  }
  EXPECT_NE(what.find(index.shard_path(0)), std::string::npos) << what;
  ImageLoader folder(files, small_options(2));  // destroyed with batches in flight: joins cleanly
  ImageBatch b;
  ASSERT_TRUE(folder.next(b));
}

TEST(ImageLoader, PinnedMemoryNeedsCuda) {
  test_files::TempDir tmp;
  const auto files = numbered_samples(tmp.path(), 4);
  auto options = small_options(1);
  options.pin_memory = true;
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(ImageLoader(files, options), Error);
    return;
  }
  ImageLoader loader(files, options);
  ImageBatch batch;
  ASSERT_TRUE(loader.next(batch));
  EXPECT_TRUE(batch.images.is_pinned());
}

TEST(ImageLoader, ThroughputCountsEveryImage) {
  test_files::TempDir tmp;
  const auto files = numbered_samples(tmp.path(), 10);
  const auto r = measure_transform_throughput(files, small_options(1).transform, true, 2, 8);
  EXPECT_EQ(r.images, 8);
  EXPECT_GT(r.images_per_second, 0);
}

}  // namespace
}  // namespace dnas::data
