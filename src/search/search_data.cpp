#include "search_data.h"

#include <torch/torch.h>

#include "dnas/data/split.h"
#include "dnas/loop/batch_stats.h"

namespace dnas::search {
namespace {

using loop::group_total;

torch::Device net_device(supernet::Supernet& net) { return net->parameters().front().device(); }

// D_train / D_val (/ D_val_beta for a method with two validation splits) of the training set.
std::vector<torch::Tensor> search_splits(const SearchConfig& c, int64_t images, int validation_splits) {
  data::SplitOptions split;
  split.fractions = {c.data.train_portion, 1.0 - c.data.train_portion};
  if (validation_splits == 2) split.fractions = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  split.shuffle = c.data.split_shuffle;
  split.seed = c.run.seed;
  split.limit = c.data.limit;
  return data::split_indices(images, split);
}

}  // namespace

// Augmented on the CPU (the same images for a seed on every device), then moved.
TensorBatch prepare(const data::Batch& b, const data::AugmentOptions& aug, bool train, torch::Device device) {
  return {data::augment_batch(b.images, aug, train, b.key, b.first_index).to(device), b.labels.to(device)};
}

// Loss/accuracy of the supernet on up to `max_batches` batches of `stream` (eval mode), each
// rank of the group evaluating its shard of every batch.
BatchStats evaluate(supernet::Supernet& net, const supernet::ArchMix& mix, data::BatchStream& stream,
                    const data::AugmentOptions& aug, int64_t max_batches, comm::ProcessGroup& group) {
  torch::NoGradGuard no_grad;
  net->eval();
  BatchStats total;
  stream.start_epoch(0);
  data::Batch b;
  for (int64_t i = 0; (max_batches == 0 || i < max_batches) && stream.next(b); ++i) {
    if (b.labels.size(0) == 0) continue;  // a final batch smaller than the group
    auto t = prepare(b, aug, /*train=*/false, net_device(net));
    auto logits = net->forward(t.x, mix);
    total.add(batch_stats(logits, t.y, torch::cross_entropy_loss(logits, t.y).item<double>()));
  }
  net->train();
  return group_total(group, total);
}

SearchData::SearchData(const SearchConfig& c, const data::Dataset& dataset, int validation_splits,
                       comm::ProcessGroup& group)
    : parts(search_splits(c, dataset.train.size(), validation_splits)),
      train(dataset.train, parts[0], c.data.batch_size, c.run.seed, true, group.size() > 1),
      val(dataset.train, parts[1], c.data.batch_size, c.run.seed + 1, true, group.size() > 1),
      eval(dataset.train, parts[1], c.data.batch_size, c.run.seed + 2, false) {
  if (parts.size() == 3)
    val_beta.emplace(dataset.train, parts[2], c.data.batch_size, c.run.seed + 3, true, group.size() > 1);
  for (auto* s : {&train, &val, &eval}) s->set_shard(group.rank(), group.size());
  if (val_beta) val_beta->set_shard(group.rank(), group.size());
  aug.crop_padding = c.data.crop_padding;
  aug.flip = c.data.flip;
  aug.mean = dataset.info.mean;
  aug.std = dataset.info.std;
}

}  // namespace dnas::search
