#pragma once
// A multi-threaded loader of encoded images (a folder list or tar shards) into normalised float
// batches, with a bounded prefetch queue, per-rank sharding and deterministic order and
// augmentation: the batches depend only on (seed, epoch, rank, world) and the options, never on
// the number of worker threads or on scheduling.
//
// Order per epoch:
//  - folder samples: a permutation of all samples from (seed, epoch); global batches of
//    batch_size; rank r of `world` takes rows [r*b/world, (r+1)*b/world) of each global batch
//    (b = that batch's size), as BatchStream::set_shard does.
//  - shards: a permutation of the shards from (seed, epoch), dealt round-robin to the ranks (rank r
//    gets positions r, r + world, ...; needs shards >= world), read in order through a seeded
//    shuffle buffer. Every rank yields the same number of samples, the smallest rank's count
//    m = min_r (samples in rank r's shards): the rest of a larger rank's stream is left out of that
//    epoch (counted in stats().left_out).
// Sample augmentation draws use sample_key(seed, epoch, index), index = the sample's position in
// the folder list or in the shards (cumulative over the index's shards).
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dnas/data/image_augment.h"
#include "dnas/data/tar_shards.h"

namespace dnas::data {

struct ImageLoaderOptions {
  int64_t batch_size = 64;  // global batch size (folders) or per-rank batch size (shards)
  uint64_t seed = 0;        // order and augmentation seed
  bool shuffle = true;      // false: folder order / shard order, no shuffle buffer
  bool drop_last = false;   // drop a final short batch
  bool train = true;        // random augmentation draws (false: the eval geometry)
  ImageTransform transform = imagenet_train_transform();
  int threads = 4;                // decode + augment worker threads (>= 1)
  int64_t prefetch = 4;           // batches prepared ahead of the one next() returns (>= 1)
  int64_t shuffle_buffer = 1000;  // shards: samples held by the shuffle buffer (>= 1)
  int rank = 0, world = 1;
  bool pin_memory = false;       // batches in pinned host memory; an error without CUDA
  bool skip_bad_images = false;  // an ImageError drops the sample (counted) instead of failing
};

struct ImageBatch {
  torch::Tensor images;  // [B, 3, S, S] float32, normalised (pinned when requested)
  torch::Tensor labels;  // [B] int64
  int64_t index = 0;     // batch number within the epoch
};

// Counts of the current epoch so far.
struct LoaderEpochStats {
  int64_t epoch = 0;
  int64_t batches = 0;      // returned by next()
  int64_t samples = 0;      // rows returned
  int64_t skipped = 0;      // bad images dropped (skip_bad_images) in the returned batches
  int64_t left_out = 0;     // shards: samples of this rank beyond the common per-rank count
  double wait_seconds = 0;  // time next() spent blocked waiting for a batch
};

class ImageLoader {
 public:
  // Folder samples (path + label). Starts epoch 0 (its workers begin at once).
  ImageLoader(std::vector<ImageFile> samples, ImageLoaderOptions options);
  // Tar shards described by `index`. Starts epoch 0.
  ImageLoader(ShardIndex index, ImageLoaderOptions options);
  ~ImageLoader();  // stops and joins the threads
  ImageLoader(const ImageLoader&) = delete;
  ImageLoader& operator=(const ImageLoader&) = delete;

  // Stops the running epoch (if any) and starts `epoch` at batch `first_batch` (a resumed run):
  // the same batches as a start at 0 from that one on; skipped batches are not decoded.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the epoch; false once it is exhausted. Rethrows a worker's or the shard
  // reader's error (naming the file) when its batch is reached.
  bool next(ImageBatch& out);
  int64_t batches_per_epoch() const;  // of the current epoch, for this rank
  LoaderEpochStats stats() const;
  int64_t skipped() const { return stats().skipped; }

  struct State;

 private:
  std::unique_ptr<State> state_;
};

struct TransformThroughput {
  int64_t images = 0;
  double seconds = 0;
  double images_per_second = 0;
};

// Decode + transform speed over (at most max_images of) `samples` with `threads` threads; the
// files are read into memory first, so disk reads are not timed.
TransformThroughput measure_transform_throughput(const std::vector<ImageFile>& samples, const ImageTransform& t,
                                                 bool train, int threads, int64_t max_images);

}  // namespace dnas::data
