#include "dnas/search/nasp_proximal.h"

#include <torch/torch.h>

#include <algorithm>

namespace dnas::search {

torch::Tensor prox_box(const torch::Tensor& alpha) { return alpha.clamp(0.0, 1.0); }

torch::Tensor prox_disc(const torch::Tensor& alpha, bool keep_value) {
  auto index = alpha.argmax(-1, /*keepdim=*/true);  // first maximum: ties go to the lowest op
  auto out = torch::zeros_like(alpha);
  return out.scatter_(1, index, keep_value ? alpha.gather(1, index) : torch::ones_like(index, alpha.options()));
}

torch::Tensor keep_strongest_edges(const torch::Tensor& discrete, const torch::Tensor& alpha,
                                   const std::vector<std::vector<int64_t>>& node_edges, size_t k) {
  // [E]: the selected op's alpha
  const auto chosen = discrete.ne(0).to(torch::kInt32).argmax(-1, /*keepdim=*/true);
  const auto selected = alpha.gather(1, chosen).squeeze(1).to(torch::kCPU, torch::kDouble).contiguous();
  const auto strength = selected.accessor<double, 1>();
  auto keep = torch::zeros({discrete.size(0)}, torch::kBool);
  for (const auto& edges : node_edges) {
    auto order = edges;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return strength[a] > strength[b]; });
    for (size_t i = 0; i < std::min(k, order.size()); ++i) keep[order[i]] = true;
  }
  return discrete * keep.unsqueeze(1).to(discrete.device(), discrete.scalar_type());
}

void proximal_step(const torch::Tensor& alpha, NaspVariant variant) {
  torch::NoGradGuard no_grad;
  if (variant == NaspVariant::Nasp) alpha.clamp_(0.0, 1.0);  // Alg. 1: prox onto the box C2
  // Eq. 9: prox onto C = C1 (one non-zero per edge) and C2 (the box), i.e. clip then keep the
  // largest entry at its value (Proposition 1).
  if (variant == NaspVariant::Standard) alpha.copy_(prox_disc(prox_box(alpha), true));
}

}  // namespace dnas::search
