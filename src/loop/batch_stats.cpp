#include "dnas/loop/batch_stats.h"

#include <torch/torch.h>

namespace dnas::loop {

BatchStats batch_stats(const torch::Tensor& logits, const torch::Tensor& labels, double mean_loss) {
  BatchStats s;
  s.count = labels.size(0);
  s.loss_sum = mean_loss * s.count;
  s.correct = logits.detach().argmax(1).eq(labels).sum().item<int64_t>();
  return s;
}

BatchStats group_total(comm::ProcessGroup& group, const BatchStats& s) {
  if (group.size() == 1) return s;
  auto t = group.sum({s.loss_sum, static_cast<double>(s.correct), static_cast<double>(s.count)});
  return {t[0], static_cast<int64_t>(t[1]), static_cast<int64_t>(t[2])};
}

}  // namespace dnas::loop
