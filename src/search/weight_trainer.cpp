#include "dnas/search/weight_trainer.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>

#include "dnas/optim/sgd_step.h"
#include "dnas/store/module_state.h"

namespace dnas::search {

WeightTrainer::WeightTrainer(supernet::Supernet network, const WeightOptions& options,
                             std::shared_ptr<comm::ProcessGroup> group)
    : net(std::move(network)),
      optimizer(net->parameters(), torch::optim::SGDOptions(options.lr)
                                       .momentum(options.momentum)
                                       .weight_decay(options.weight_decay)
                                       .nesterov(options.nesterov)),
      options_(options),
      group_(std::move(group)) {}

BatchStats WeightTrainer::step(const TensorBatch& batch, const supernet::ArchMix& mix) {
  using Clock = std::chrono::steady_clock;
  auto now = [&] {
    if (batch.x.is_cuda()) torch::cuda::synchronize();
    return Clock::now();
  };
  const auto t0 = timing_ ? now() : Clock::time_point{};
  optimizer.zero_grad();
  auto logits = net->forward(batch.x, mix);  // [B, K]
  auto loss = torch::cross_entropy_loss(logits, batch.y);
  const auto t1 = timing_ ? now() : Clock::time_point{};
  loss.backward();
  if (group_->size() > 1) {
    std::vector<torch::Tensor> grads;
    for (const auto& p : net->parameters()) grads.push_back(p.grad());  // undefined ones are skipped
    group_->average(grads);
  }
  optim::clip_and_step(optimizer, options_.grad_clip);
  if (timing_) {
    const auto t2 = now();
    times_.forward += std::chrono::duration<double>(t1 - t0).count();
    times_.backward += std::chrono::duration<double>(t2 - t1).count();
    ++times_.steps;
  }
  return batch_stats(logits, batch.y, loss.item<double>());
}

void WeightTrainer::set_lr(double lr) {
  options_.lr = lr;
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
}

std::vector<torch::Tensor> WeightTrainer::momentum_buffers() const {
  std::vector<torch::Tensor> out;
  const auto& state = optimizer.state();
  for (const auto& p : net->parameters()) {
    auto it = state.find(store::optimizer_state_key(state, p));
    if (it == state.end()) {
      out.push_back(torch::zeros_like(p));
    } else {
      const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
      out.push_back(s.momentum_buffer().defined() ? s.momentum_buffer() : torch::zeros_like(p));
    }
  }
  return out;
}

}  // namespace dnas::search
