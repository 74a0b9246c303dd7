#include "retrain_data.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "dnas/core/error.h"
#include "dnas/data/image_augment.h"
#include "dnas/data/split.h"
#include "dnas/data/tar_shards.h"
#include "dnas/train/losses.h"

namespace dnas::train {
namespace {

void add_batch(EvalStats& total, const torch::Tensor& logits, const torch::Tensor& labels) {
  total.top1.add(loop::batch_stats(logits, labels, torch::cross_entropy_loss(logits, labels).item<double>()));
  total.correct_top5 += top_k_correct(logits, labels, 5);
}

EvalStats group_total(comm::ProcessGroup& group, const EvalStats& s) {
  if (group.size() == 1) return s;
  auto t = group.sum({s.top1.loss_sum, static_cast<double>(s.top1.correct), static_cast<double>(s.top1.count),
                      static_cast<double>(s.correct_top5)});
  EvalStats out;
  out.top1 = {t[0], static_cast<int64_t>(t[1]), static_cast<int64_t>(t[2])};
  out.correct_top5 = static_cast<int64_t>(t[3]);
  return out;
}

// The train and validation index sets of an in-memory retrain.
std::vector<torch::Tensor> train_splits(const TrainConfig& c, int64_t images) {
  data::SplitOptions split;
  split.fractions = c.data.val_portion > 0 ? std::vector<double>{1.0 - c.data.val_portion, c.data.val_portion}
                                           : std::vector<double>{1.0};
  split.shuffle = c.data.val_portion > 0;
  split.seed = c.run.seed;
  split.limit = c.data.limit;
  return data::split_indices(images, split);
}

// The paper transforms of a streamed dataset at the network's input size.
data::ImageTransform stream_transform(const TrainConfig& c, const data::DatasetInfo& info, bool train) {
  data::ImageTransform t;
  if (info.name == "tiny_imagenet") {
    t = train ? data::tiny_imagenet_train_transform() : data::tiny_imagenet_eval_transform();
  } else {
    t = train ? data::imagenet_train_transform() : data::imagenet_eval_transform();
    t.size = info.height;
    t.resize = static_cast<int64_t>(std::lround(static_cast<double>(info.height) * 256.0 / 224.0));  // 256 at 224
  }
  t.flip = t.flip && c.data.flip;
  t.mean = info.mean;
  t.std = info.std;
  return t;
}

data::ImageLoaderOptions loader_options(const TrainConfig& c, const comm::ProcessGroup& group, bool train) {
  data::ImageLoaderOptions o;
  o.batch_size = c.data.batch_size;
  o.seed = c.run.seed;
  o.shuffle = train;
  o.drop_last = train && group.size() > 1;  // every rank's shard of every step has the same size
  o.train = train;
  o.threads = static_cast<int>(c.data.loader_threads);
  o.prefetch = c.data.prefetch;
  o.shuffle_buffer = c.data.shuffle_buffer;
  o.rank = group.rank();
  o.world = group.size();
  o.pin_memory = c.run.device.rfind("cuda", 0) == 0;
  o.skip_bad_images = data::parse_bad_images(c.data.bad_images, "data.bad_images") == data::BadImages::Skip;
  return o;
}

}  // namespace

double EvalStats::top5_accuracy() const {
  return top1.count ? static_cast<double>(correct_top5) / static_cast<double>(top1.count) : 0.0;
}

RetrainData::RetrainData(const TrainConfig& c, comm::ProcessGroup& group) : c_(c), group_(group) {
  if (c.data.stream)
    open_streams();
  else
    load_in_memory();
}

void RetrainData::load_in_memory() {
  const auto& c = c_;
  dataset_ = data::load_dataset(c.data);
  info_ = dataset_.info;
  skipped_at_load_ = dataset_.skipped_images;
  const auto parts = train_splits(c, dataset_.train.size());
  test_images_ = c.data.test_limit > 0 ? std::min(c.data.test_limit, dataset_.test.size()) : dataset_.test.size();
  train_.emplace(dataset_.train, parts[0], c.data.batch_size, c.run.seed, /*shuffle=*/true,
                 /*drop_last=*/group_.size() > 1);
  test_.emplace(dataset_.test, torch::arange(test_images_), c.data.batch_size, c.run.seed + 2, false);
  if (parts.size() > 1) val_.emplace(dataset_.train, parts[1], c.data.batch_size, c.run.seed + 1, false);
  train_->set_shard(group_.rank(), group_.size());
  test_->set_shard(group_.rank(), group_.size());
  if (val_) val_->set_shard(group_.rank(), group_.size());
  train_images_ = parts[0].size(0);
  val_images_ = parts.size() > 1 ? parts[1].size(0) : 0;
  aug_.crop_padding = c.data.crop_padding;
  aug_.flip = c.data.flip;
  aug_.cutout = c.data.cutout;
  aug_.mean = info_.mean;
  aug_.std = info_.std;
}

void RetrainData::open_streams() {
  const auto& c = c_;
  info_ = data::dataset_info(c.data.dataset, c.data.image_size);
  const std::string root = c.data.root.empty() ? data::default_data_root(c.data.dataset) : c.data.root;
  files_ = data::list_folder_dataset(c.data, root, info_);
  if (c.data.test_limit > 0 && c.data.test_limit < static_cast<int64_t>(files_.test.samples.size()))
    files_.test.samples.resize(static_cast<size_t>(c.data.test_limit));
  test_images_ = static_cast<int64_t>(files_.test.samples.size());
  if (c.data.batch_size < group_.size())
    fail("data.batch_size = " + std::to_string(c.data.batch_size) + " leaves some of the " +
             std::to_string(group_.size()) + " ranks without images",
         "data.batch_size", "use a batch of at least one image per rank");
  auto options = loader_options(c, group_, /*train=*/true);
  options.transform = stream_transform(c, info_, true);
  if (c.data.train_shards.empty()) {
    train_images_ = static_cast<int64_t>(files_.train.samples.size());
    train_loader_ = std::make_unique<data::ImageLoader>(files_.train.samples, options);
  } else {
    auto index = data::read_shard_index(c.data.train_shards);
    if (index.classes != files_.train.classes)
      fail("the shards' " + std::to_string(index.classes.size()) + " classes are not the " +
               std::to_string(files_.train.classes.size()) + " class folders of " + files_.train_dir,
           data::shard_index_path(c.data.train_shards), "pack the same train folder that data.root holds");
    if (c.data.batch_size % group_.size() != 0)
      fail("data.batch_size = " + std::to_string(c.data.batch_size) + " does not divide over " +
               std::to_string(group_.size()) + " ranks",
           "data.batch_size", "shards give every rank batch_size / ranks samples a step");
    if (c.data.limit > 0)
      fail("data.limit does not apply to shards", "data.limit", "pack a subset instead, or set data.limit = 0");
    train_images_ = index.total();
    options.batch_size = c.data.batch_size / group_.size();
    train_loader_ = std::make_unique<data::ImageLoader>(std::move(index), options);
  }
  spdlog::info("train: streaming {} from {} ({} loader threads per rank, {} batches prefetched)", c.data.dataset,
               c.data.train_shards.empty() ? files_.train_dir : data::shard_index_path(c.data.train_shards),
               c.data.loader_threads, c.data.prefetch);
}

loop::EpochLoop RetrainData::epoch_loop(const std::string& checkpoint_path) {
  const auto& c = c_;
  if (!streamed())
    return loop::epoch_loop("train", c.optim.epochs, c.optim.steps_per_epoch, *train_, group_, c.run, checkpoint_path);
  loop::EpochLoop l;
  l.name = "train";
  l.epochs = c.optim.epochs;
  // A shard epoch's length can vary with the shards' order: the loader ends the epoch.
  const int64_t batches = train_loader_->batches_per_epoch();
  l.steps_per_epoch = c.optim.steps_per_epoch > 0 ? c.optim.steps_per_epoch : std::numeric_limits<int64_t>::max();
  l.expected_steps = c.optim.steps_per_epoch > 0 ? std::min(c.optim.steps_per_epoch, batches) : batches;
  l.stop_after_steps = c.run.stop_after_steps;
  l.log_period_s = c.run.log_period_s;
  l.progress = c.run.progress;
  l.checkpoint_path = checkpoint_path;
  l.group = &group_;
  l.more_steps = [this] { return train_loader_->next(pending_); };
  return l;
}

void RetrainData::begin_epoch(int64_t epoch, int64_t step) {
  if (streamed()) train_loader_->start_epoch(epoch, step);
}

void RetrainData::prepare_next_epoch(int64_t epoch) {
  if (streamed() && epoch + 1 < c_.optim.epochs) train_loader_->start_epoch(epoch + 1, 0);
}

std::pair<torch::Tensor, torch::Tensor> RetrainData::train_inputs(const data::Batch& b, torch::Device device) {
  if (streamed()) {
    const bool async = pending_.images.is_pinned();
    return {pending_.images.to(device, async), pending_.labels.to(device, async)};
  }
  // Augmented on the CPU (the same images for a seed on every device), then moved.
  return {data::augment_batch(b.images, aug_, /*train=*/true, b.key, b.first_index).to(device), b.labels.to(device)};
}

double RetrainData::data_wait_seconds() const { return streamed() ? train_loader_->stats().wait_seconds : 0.0; }

int64_t RetrainData::skipped_this_epoch() const { return streamed() ? train_loader_->stats().skipped : 0; }

EvalStats RetrainData::evaluate_test(eval::EvalNetwork& net) {
  if (!streamed()) return evaluate_in_memory(net, *test_);
  torch::NoGradGuard no_grad;
  net->eval();
  const auto device = net->parameters().front().device();
  EvalStats total;
  auto options = loader_options(c_, group_, /*train=*/false);
  options.transform = stream_transform(c_, info_, false);
  data::ImageLoader loader(files_.test.samples, options);
  for (data::ImageBatch b; loader.next(b);) {
    if (b.labels.size(0) == 0) continue;  // a final batch smaller than the group
    add_batch(total, net->forward(b.images.to(device)).logits, b.labels.to(device));
  }
  if (loader.skipped() > 0)
    spdlog::warn("test: {} bad images skipped on rank {} (data.bad_images = skip)", loader.skipped(), group_.rank());
  net->train();
  return group_total(group_, total);
}

EvalStats RetrainData::evaluate_val(eval::EvalNetwork& net) { return evaluate_in_memory(net, *val_); }

EvalStats RetrainData::evaluate_in_memory(eval::EvalNetwork& net, data::BatchStream& stream) {
  torch::NoGradGuard no_grad;
  net->eval();
  const auto device = net->parameters().front().device();
  EvalStats total;
  stream.start_epoch(0);
  for (data::Batch b; stream.next(b);) {
    if (b.labels.size(0) == 0) continue;  // a final batch smaller than the group
    auto x = data::augment_batch(b.images, aug_, false, b.key, b.first_index).to(device);
    add_batch(total, net->forward(x).logits, b.labels.to(device));
  }
  net->train();
  return group_total(group_, total);
}

}  // namespace dnas::train
