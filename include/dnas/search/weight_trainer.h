#pragma once
// The network weights w of the supernet and their SGD optimizer (docs/methods.md 1.5), shared by
// every search method.
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include "dnas/comm/process_group.h"
#include "dnas/loop/batch_stats.h"
#include "dnas/supernet/cell_mix.h"
#include "dnas/supernet/supernet.h"

namespace dnas::search {

struct TensorBatch {
  torch::Tensor x;  // [B, C, H, W] float32, augmented and normalised
  torch::Tensor y;  // [B] int64
};

// The batch statistics every method reports (defined with the epoch loop).
using loop::batch_stats;
using loop::BatchStats;

struct WeightOptions {
  double lr = 0.025, momentum = 0.9, weight_decay = 3e-4, grad_clip = 5.0;  // clip 0 = off
  bool nesterov = false;
};

class WeightTrainer {
 public:
  // `group`: the data-parallel group this trainer's batches are shards of (solo by default).
  WeightTrainer(supernet::Supernet net, const WeightOptions& options,
                std::shared_ptr<comm::ProcessGroup> group = comm::solo_group());

  // One SGD step of w on `batch` under `mix` (arch tensors inside `mix` should be detached);
  // gradients are averaged over the group before clipping.
  BatchStats step(const TensorBatch& batch, const supernet::ArchMix& mix);
  // Averages `grads` over the group in place: every gradient a method computes from its shard
  // (architecture gradients, hypergradient terms) goes through here before it is used.
  void average(const std::vector<torch::Tensor>& grads) { group_->average(grads); }
  comm::ProcessGroup& group() { return *group_; }
  void set_lr(double lr);
  double lr() const { return options_.lr; }
  const WeightOptions& options() const { return options_; }

  // Momentum buffer of each parameter (zeros before the first step), in parameters() order.
  std::vector<torch::Tensor> momentum_buffers() const;

  // Wall time of the weight steps' forward (to the loss) and backward (gradients, all-reduce,
  // clipping, SGD update) since the last reset, when timing is on (bench: NASP Table 6). On a
  // GPU each part is synchronised before it is read.
  struct StepTimes {
    double forward = 0, backward = 0;
    int64_t steps = 0;
  };
  void time_steps(bool on) {
    timing_ = on;
    times_ = {};
  }
  const StepTimes& step_times() const { return times_; }

  supernet::Supernet net;
  torch::optim::SGD optimizer;

 private:
  WeightOptions options_;
  bool timing_ = false;
  StepTimes times_;
  std::shared_ptr<comm::ProcessGroup> group_;
};

}  // namespace dnas::search
