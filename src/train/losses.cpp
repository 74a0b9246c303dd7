#include "dnas/train/losses.h"

#include <torch/torch.h>

#include <algorithm>

namespace dnas::train {

torch::Tensor smoothed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, double eps) {
  if (eps == 0.0) return torch::cross_entropy_loss(logits, labels);
  const auto k = logits.size(1);
  auto log_p = torch::log_softmax(logits, /*dim=*/1);                   // [N, K]
  auto target = torch::full_like(log_p, eps / static_cast<double>(k));  // [N, K]
  target.scatter_add_(1, labels.unsqueeze(1), torch::full({labels.size(0), 1}, 1.0 - eps, log_p.options()));
  return -(target * log_p).sum(1).mean();
}

int64_t top_k_correct(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k) {
  k = std::min<int64_t>(k, logits.size(1));
  const auto top = std::get<1>(logits.detach().topk(k, 1));  // [N, k] class indices
  return top.eq(labels.unsqueeze(1)).any(1).sum().item<int64_t>();
}

}  // namespace dnas::train
