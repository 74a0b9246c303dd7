#pragma once
// Loss and accuracy summed over batches, and their total over a data-parallel group.
#include <torch/types.h>

#include <cstdint>

#include "dnas/comm/process_group.h"

namespace dnas::loop {

struct BatchStats {
  double loss_sum = 0.0;  // sum over samples of the cross-entropy
  int64_t correct = 0;
  int64_t count = 0;
  void add(const BatchStats& o) {
    loss_sum += o.loss_sum;
    correct += o.correct;
    count += o.count;
  }
  double loss() const { return count ? loss_sum / count : 0.0; }
  double accuracy() const { return count ? static_cast<double>(correct) / count : 0.0; }
};

// Batch statistics from logits [B, K] and a mean loss value.
BatchStats batch_stats(const torch::Tensor& logits, const torch::Tensor& labels, double mean_loss);

// The sum over the ranks of `group` (the statistics themselves for a single process).
BatchStats group_total(comm::ProcessGroup& group, const BatchStats& stats);

}  // namespace dnas::loop
