#include "dnas/data/batch_stream.h"

#include <torch/torch.h>

#include <random>

#include "dnas/core/error.h"
#include "dnas/data/rng.h"

namespace dnas::data {
namespace {

// Domain separation, so the epoch order and the batch keys use unrelated streams.
constexpr uint64_t kOrderSalt = 0x6f72646572000001ULL;
constexpr uint64_t kKeySalt = 0x6b65790000000002ULL;

}  // namespace

BatchStream::BatchStream(const ImageSet& set, torch::Tensor indices, int64_t batch_size, uint64_t seed, bool shuffle,
                         bool drop_last)
    : images_(set.images),
      labels_(set.labels),
      batch_size_(batch_size),
      seed_(seed),
      shuffle_(shuffle),
      drop_last_(drop_last) {
  const std::string where = "data.batch_stream";
  if (batch_size <= 0) fail("batch size must be > 0, got " + std::to_string(batch_size), "data.batch_size");
  if (!images_.defined() || !labels_.defined() || images_.size(0) != labels_.size(0))
    fail("image set has mismatched or missing images/labels", where);
  if (!indices.defined() || indices.dim() != 1 || indices.scalar_type() != torch::kInt64)
    fail("indices must be a 1-D int64 tensor", where);
  const auto idx = indices.to(torch::kCPU).contiguous();  // [n] int64
  indices_.assign(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
  for (int64_t i : indices_)
    if (i < 0 || i >= set.size())
      fail("index " + std::to_string(i) + " is out of range [0, " + std::to_string(set.size()) + ")", where);
  start_epoch(0);
}

void BatchStream::set_shard(int rank, int world) {
  if (world < 1 || rank < 0 || rank >= world)
    fail("invalid shard: rank " + std::to_string(rank) + " of world " + std::to_string(world), "data.batch_stream");
  rank_ = rank;
  world_ = world;
}

int64_t BatchStream::batches_per_epoch() const {
  const int64_t n = size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

void BatchStream::start_epoch(int64_t epoch) {
  epoch_ = epoch;
  position_ = 0;
  order_ = indices_;
  if (shuffle_) {
    std::mt19937_64 rng(mix_seed(seed_ ^ kOrderSalt, static_cast<uint64_t>(epoch)));
    fisher_yates(order_, rng);
  }
}

bool BatchStream::next(Batch& out) {
  if (position_ >= batches_per_epoch()) return false;
  const int64_t begin = position_ * batch_size_;
  const int64_t global = std::min(batch_size_, size() - begin);  // this global batch's size B
  const int64_t lo = static_cast<int64_t>(rank_) * global / world_;
  const int64_t hi = static_cast<int64_t>(rank_ + 1) * global / world_;
  auto rows = torch::empty({hi - lo}, torch::kInt64);  // [hi - lo] indices into the set
  std::copy(order_.begin() + begin + lo, order_.begin() + begin + hi, rows.data_ptr<int64_t>());
  out.images = images_.index_select(0, rows);  // [hi - lo, C, H, W] uint8
  out.labels = labels_.index_select(0, rows);  // [hi - lo] int64
  out.key = mix_seed(mix_seed(seed_ ^ kKeySalt, static_cast<uint64_t>(epoch_)), static_cast<uint64_t>(position_));
  out.first_index = lo;
  ++position_;
  return true;
}

Batch BatchStream::next_endless() {
  if (batches_per_epoch() == 0)
    fail("stream has no batches (" + std::to_string(size()) + " examples, batch size " + std::to_string(batch_size_) +
             ", drop_last)",
         "data.batch_size", "use a smaller batch size or more examples");
  Batch b;
  if (!next(b)) {
    start_epoch(epoch_ + 1);
    next(b);
  }
  return b;
}

void BatchStream::seek(int64_t epoch, int64_t position) {
  if (position < 0 || position > batches_per_epoch())
    fail("cannot resume at batch " + std::to_string(position) + " of an epoch with " +
             std::to_string(batches_per_epoch()) + " batches",
         "data.batch_stream", "the checkpoint does not match this data configuration");
  start_epoch(epoch);
  position_ = position;
}

}  // namespace dnas::data
