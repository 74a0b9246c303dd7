#include "dnas/data/image_loader.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "dnas/core/error.h"
#include "dnas/data/image_codec.h"
#include "dnas/data/rng.h"

namespace dnas::data {
namespace {

// Domain separation of the loader's streams.
constexpr uint64_t kFolderOrderSalt = 0x6c6f616465720001ULL;
constexpr uint64_t kShardOrderSalt = 0x6c6f616465720002ULL;
constexpr uint64_t kBufferSalt = 0x6c6f616465720003ULL;

using Clock = std::chrono::steady_clock;

// One sample of a batch job: encoded bytes (shards) or a file to read (folders).
struct Item {
  std::string name;  // file path or "<shard>: <member>", for errors
  std::string path;  // folders: the file to read
  std::vector<uint8_t> bytes;
  int64_t label = 0;
  uint64_t key = 0;
};

struct Job {
  int64_t index = 0;
  std::vector<Item> items;
};

struct Result {
  ImageBatch batch;
  int64_t skipped = 0;
  std::exception_ptr error;
};

std::vector<int64_t> permutation(int64_t n, bool shuffle, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (shuffle) {
    SplitMix64 rng(seed);
    fisher_yates(order, rng);
  }
  return order;
}

}  // namespace

struct ImageLoader::State {
  ImageLoaderOptions opt;
  std::vector<ImageFile> files;  // folder mode
  ShardIndex index;              // shard mode
  bool sharded = false;
  std::vector<int64_t> shard_offsets;  // [shards] global index of each shard's first sample

  // The current epoch's plan.
  int64_t epoch = -1, batches = 0;
  std::vector<std::vector<int64_t>> folder_batches;  // folder mode: sample indices per batch
  std::vector<int64_t> rank_shards;                  // shard mode: this rank's shards, in order
  int64_t rank_samples = 0;                          // shard mode: samples this rank yields

  std::mutex mu;
  std::condition_variable cv_jobs, cv_space, cv_ready;
  std::deque<Job> jobs;
  std::map<int64_t, Result> results;
  int64_t jobs_made = 0, consumed = 0;
  int64_t first_batch = 0;  // batches before it are planned but never queued
  bool feeding_done = false, stop = false;
  std::thread feeder;
  std::vector<std::thread> workers;
  LoaderEpochStats stats;

  void validate() {
    const std::string where = "data.image_loader";
    if (opt.batch_size <= 0) fail("batch size must be > 0", where);
    if (opt.threads < 1) fail("threads must be >= 1, got " + std::to_string(opt.threads), where);
    if (opt.prefetch < 1) fail("prefetch must be >= 1", where);
    if (opt.shuffle_buffer < 1) fail("shuffle buffer must be >= 1", where);
    if (opt.world < 1 || opt.rank < 0 || opt.rank >= opt.world)
      fail("invalid shard: rank " + std::to_string(opt.rank) + " of world " + std::to_string(opt.world), where);
    if (opt.pin_memory && !torch::cuda::is_available())
      fail("pinned memory was requested but CUDA is not available", where, "turn pinning off on CPU-only machines");
  }

  // Blocks until the job queue has room (or the epoch is stopped); false when stopped.
  bool push_job(Job job) {
    std::unique_lock<std::mutex> lock(mu);
    const int64_t depth = opt.prefetch + opt.threads;
    cv_space.wait(lock, [&] { return stop || jobs_made - consumed < depth; });
    if (stop) return false;
    if (jobs_made < first_batch) {  // a resumed epoch: the shard samples are read, not decoded
      ++jobs_made;
      return true;
    }
    job.index = jobs_made++;
    jobs.push_back(std::move(job));
    cv_jobs.notify_one();
    return true;
  }

  void feed_folders() {
    for (size_t b = static_cast<size_t>(first_batch); b < folder_batches.size(); ++b) {
      Job job;
      for (int64_t i : folder_batches[b]) {
        Item item;
        item.name = item.path = files[static_cast<size_t>(i)].path;
        item.label = files[static_cast<size_t>(i)].label;
        item.key = sample_key(opt.seed, epoch, i);
        job.items.push_back(std::move(item));
      }
      if (!push_job(std::move(job))) return;
    }
  }

  void feed_shards() {
    if (rank_samples == 0) return;
    SplitMix64 rng(mix_seed(mix_seed(opt.seed ^ kBufferSalt, static_cast<uint64_t>(epoch)), opt.rank));
    const auto capacity = static_cast<size_t>(opt.shuffle ? opt.shuffle_buffer : 1);
    std::vector<Item> buffer;
    Job job;
    int64_t emitted = 0;
    auto emit = [&](Item item) {  // false once the epoch's samples are all out, or stopped
      job.items.push_back(std::move(item));
      ++emitted;
      const bool last = emitted == rank_samples;
      if (static_cast<int64_t>(job.items.size()) == opt.batch_size || last) {
        if (job.items.size() == static_cast<size_t>(opt.batch_size) || !opt.drop_last)
          if (!push_job(std::move(job))) return false;
        job = Job{};
      }
      return !last;
    };
    for (int64_t s : rank_shards) {
      ShardReader reader(index.shard_path(static_cast<size_t>(s)), index.counts[static_cast<size_t>(s)],
                         static_cast<int64_t>(index.classes.size()));
      ShardRecord record;
      for (int64_t member = 0; reader.next(record); ++member) {
        Item item;
        item.name = reader.path() + ": " + record.member;
        item.bytes = std::move(record.bytes);
        item.label = record.label;
        item.key = sample_key(opt.seed, epoch, shard_offsets[static_cast<size_t>(s)] + member);
        if (buffer.size() < capacity) {
          buffer.push_back(std::move(item));
          continue;
        }
        const auto j = static_cast<size_t>(uniform_below(rng, capacity));
        std::swap(buffer[j], item);
        if (!emit(std::move(item))) return;
      }
    }
    fisher_yates(buffer, rng);
    for (auto& item : buffer)
      if (!emit(std::move(item))) return;
  }

  void run_feeder() {
    try {
      if (sharded)
        feed_shards();
      else
        feed_folders();
    } catch (...) {  // a shard read error: reported at the batch where it happened (or the first one
                     // next() waits for, when it happened among the batches a resumed epoch skips)
      std::lock_guard<std::mutex> lock(mu);
      results[std::max(jobs_made, first_batch)].error = std::current_exception();
      cv_ready.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    const int64_t next_wanted = std::max(jobs_made, first_batch);
    if (!stop && next_wanted < batches && results.count(next_wanted) == 0)  // never leave next() waiting
      results[next_wanted].error =
          std::make_exception_ptr(Error("the sample stream ended after " + std::to_string(jobs_made) + " of " +
                                        std::to_string(batches) + " batches [data.image_loader]"));
    feeding_done = true;
    cv_jobs.notify_all();
    cv_ready.notify_all();
  }

  Result make_batch(const Job& job) const {
    const int64_t side = opt.transform.size, rows = static_cast<int64_t>(job.items.size());
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(opt.pin_memory);
    auto images = torch::empty({rows, 3, side, side}, options);  // [B, 3, S, S]
    auto labels = torch::empty({rows}, torch::TensorOptions().dtype(torch::kInt64).pinned_memory(opt.pin_memory));
    float* out = images.data_ptr<float>();
    std::vector<int64_t> kept;
    Result r;
    for (int64_t i = 0; i < rows; ++i) {
      const Item& item = job.items[static_cast<size_t>(i)];
      try {
        if (item.path.empty()) {
          transform_image(item.bytes.data(), item.bytes.size(), item.name, opt.transform, opt.train, item.key,
                          out + i * 3 * side * side);
        } else {
          const std::vector<uint8_t> bytes = read_file_bytes(item.path);
          transform_image(bytes.data(), bytes.size(), item.name, opt.transform, opt.train, item.key,
                          out + i * 3 * side * side);
        }
        labels.data_ptr<int64_t>()[i] = item.label;
        kept.push_back(i);
      } catch (const ImageError&) {
        if (!opt.skip_bad_images) throw;
        ++r.skipped;
      } catch (const std::exception& e) {
        throw Error(std::string(e.what()) + " [while loading " + item.name + "]");
      }
    }
    if (r.skipped > 0) {                                // compact the rows that decoded
      auto index = torch::tensor(kept, torch::kInt64);  // [B']
      auto compact = torch::empty({index.numel(), 3, side, side}, options);
      compact.copy_(images.index_select(0, index));
      auto compact_labels = torch::empty({index.numel()}, labels.options());
      compact_labels.copy_(labels.index_select(0, index));
      images = compact, labels = compact_labels;
    }
    r.batch.images = images;
    r.batch.labels = labels;
    r.batch.index = job.index;
    return r;
  }

  void run_worker() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_jobs.wait(lock, [&] { return stop || !jobs.empty() || feeding_done; });
        if (stop || jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      Result r;
      try {
        r = make_batch(job);
      } catch (...) {
        r.error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      results[job.index] = std::move(r);
      cv_ready.notify_all();
    }
  }

  void stop_threads() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv_jobs.notify_all();
    cv_space.notify_all();
    if (feeder.joinable()) feeder.join();
    for (auto& w : workers)
      if (w.joinable()) w.join();
    workers.clear();
  }

  void plan_folders() {
    const auto n = static_cast<int64_t>(files.size()), b = opt.batch_size;
    const auto order = permutation(n, opt.shuffle, mix_seed(opt.seed ^ kFolderOrderSalt, static_cast<uint64_t>(epoch)));
    folder_batches.clear();
    for (int64_t start = 0; start < n; start += b) {
      const int64_t size = std::min(b, n - start);
      if (size < b && opt.drop_last) break;
      const int64_t lo = start + opt.rank * size / opt.world, hi = start + (opt.rank + 1) * size / opt.world;
      folder_batches.emplace_back(order.begin() + lo, order.begin() + hi);
    }
    batches = static_cast<int64_t>(folder_batches.size());
  }

  void plan_shards() {
    const auto m = static_cast<int64_t>(index.shards.size());
    const auto order = permutation(m, opt.shuffle, mix_seed(opt.seed ^ kShardOrderSalt, static_cast<uint64_t>(epoch)));
    std::vector<int64_t> per_rank(static_cast<size_t>(opt.world), 0);
    rank_shards.clear();
    for (int64_t p = 0; p < m; ++p) {
      per_rank[static_cast<size_t>(p % opt.world)] += index.counts[static_cast<size_t>(order[p])];
      if (p % opt.world == opt.rank) rank_shards.push_back(order[p]);
    }
    rank_samples = *std::min_element(per_rank.begin(), per_rank.end());
    stats.left_out = per_rank[static_cast<size_t>(opt.rank)] - rank_samples;
    batches = opt.drop_last ? rank_samples / opt.batch_size : (rank_samples + opt.batch_size - 1) / opt.batch_size;
  }
};

ImageLoader::ImageLoader(std::vector<ImageFile> samples, ImageLoaderOptions options) : state_(new State) {
  state_->opt = std::move(options);
  state_->validate();
  if (samples.empty()) fail("the image loader got no samples", "data.image_loader");
  state_->files = std::move(samples);
  start_epoch(0);
}

ImageLoader::ImageLoader(ShardIndex index, ImageLoaderOptions options) : state_(new State) {
  State& s = *state_;
  s.opt = std::move(options);
  s.validate();
  if (index.shards.empty() || index.total() == 0) fail("the shard index lists no samples", index.dir);
  if (static_cast<int64_t>(index.shards.size()) < s.opt.world)
    fail(std::to_string(index.shards.size()) + " shards cannot be shared by " + std::to_string(s.opt.world) + " ranks",
         index.dir, "each rank reads whole shards: pack with a smaller --shard-mb to get at least one shard per rank");
  s.sharded = true;
  s.index = std::move(index);
  int64_t offset = 0;
  for (int64_t c : s.index.counts) s.shard_offsets.push_back(offset), offset += c;
  start_epoch(0);
}

ImageLoader::~ImageLoader() { state_->stop_threads(); }

void ImageLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  State& s = *state_;
  if (epoch == s.epoch && first_batch == s.first_batch && s.stats.batches == 0 && s.feeder.joinable())
    return;  // already started, untouched
  if (epoch < 0) fail("epoch must be >= 0", "data.image_loader");
  if (first_batch < 0) fail("first batch must be >= 0", "data.image_loader");
  s.stop_threads();
  s.jobs.clear();
  s.results.clear();
  s.jobs_made = s.consumed = 0;
  s.feeding_done = s.stop = false;
  s.epoch = epoch;
  s.stats = LoaderEpochStats{};
  s.stats.epoch = epoch;
  if (s.sharded)
    s.plan_shards();
  else
    s.plan_folders();
  s.first_batch = std::min(first_batch, s.batches);
  s.consumed = s.first_batch;
  if (!s.sharded) s.jobs_made = s.first_batch;  // folder batches are planned by number: skip them outright
  s.feeder = std::thread([&s] { s.run_feeder(); });
  for (int t = 0; t < s.opt.threads; ++t) s.workers.emplace_back([&s] { s.run_worker(); });
}

bool ImageLoader::next(ImageBatch& out) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.consumed >= s.batches) return false;
  const auto start = Clock::now();
  s.cv_ready.wait(lock, [&] { return s.results.count(s.consumed) > 0; });
  s.stats.wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  Result r = std::move(s.results[s.consumed]);
  s.results.erase(s.consumed);
  if (r.error) {
    s.consumed = s.batches;  // the epoch ends here
    s.epoch = -1;            // and a start_epoch of the same epoch starts it afresh
    std::rethrow_exception(r.error);
  }
  ++s.consumed;
  s.cv_space.notify_all();
  out = std::move(r.batch);
  ++s.stats.batches;
  s.stats.samples += out.labels.size(0);
  s.stats.skipped += r.skipped;
  return true;
}

int64_t ImageLoader::batches_per_epoch() const { return state_->batches; }

LoaderEpochStats ImageLoader::stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->stats;
}

TransformThroughput measure_transform_throughput(const std::vector<ImageFile>& samples, const ImageTransform& t,
                                                 bool train, int threads, int64_t max_images) {
  if (threads < 1) fail("threads must be >= 1", "data.measure_transform_throughput");
  const auto n = std::min<int64_t>(static_cast<int64_t>(samples.size()), std::max<int64_t>(max_images, 0));
  std::vector<std::vector<uint8_t>> encoded;
  for (int64_t i = 0; i < n; ++i) encoded.push_back(read_file_bytes(samples[static_cast<size_t>(i)].path));
  std::atomic<int64_t> next_index{0};
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w)
    pool.emplace_back([&, w] {
      std::vector<float> out(static_cast<size_t>(3 * t.size * t.size));  // [3, S, S]
      try {
        for (int64_t i = next_index++; i < n; i = next_index++) {
          const auto& bytes = encoded[static_cast<size_t>(i)];
          transform_image(bytes.data(), bytes.size(), samples[static_cast<size_t>(i)].path, t, train,
                          sample_key(0, 0, i), out.data());
        }
      } catch (...) {
        errors[static_cast<size_t>(w)] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  TransformThroughput r;
  r.images = n;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.images_per_second = r.seconds > 0 ? static_cast<double>(n) / r.seconds : 0;
  return r;
}

}  // namespace dnas::data
