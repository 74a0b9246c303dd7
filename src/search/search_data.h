#pragma once
// The data side of a search: its splits of the training set and batch streams, batches moved to
// the device, and the evaluation of the supernet on D_val.
#include <torch/types.h>

#include <optional>
#include <vector>

#include "dnas/comm/process_group.h"
#include "dnas/data/augment.h"
#include "dnas/data/batch_stream.h"
#include "dnas/data/dataset.h"
#include "dnas/search/search_checkpoint.h"
#include "dnas/search/search_config.h"
#include "dnas/search/weight_trainer.h"
#include "dnas/supernet/supernet.h"

namespace dnas::search {

// Augmented on the CPU (the same images for a seed on every device), then moved.
TensorBatch prepare(const data::Batch& b, const data::AugmentOptions& aug, bool train, torch::Device device);

// Loss/accuracy of the supernet on up to `max_batches` batches of `stream` (eval mode), each
// rank of the group evaluating its shard of every batch.
BatchStats evaluate(supernet::Supernet& net, const supernet::ArchMix& mix, data::BatchStream& stream,
                    const data::AugmentOptions& aug, int64_t max_batches, comm::ProcessGroup& group);

// The search's batch streams over its splits, each rank of the group taking its shard. A group
// drops the final short batch of its search streams: every shard of every step is then the
// same size, and averaging shard gradients equals the gradient of the whole batch.
struct SearchData {
  SearchData(const SearchConfig& c, const data::Dataset& dataset, int validation_splits, comm::ProcessGroup& group);
  SearchStreams streams() { return {&train, &val, val_beta ? &*val_beta : nullptr}; }

  std::vector<torch::Tensor> parts;
  data::BatchStream train, val, eval;
  std::optional<data::BatchStream> val_beta;
  data::AugmentOptions aug;
};

}  // namespace dnas::search
