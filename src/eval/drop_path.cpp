#include "dnas/eval/drop_path.h"

#include <torch/torch.h>

namespace dnas::eval {

torch::Tensor drop_path_factors(const torch::Tensor& x, double drop_prob) {
  if (drop_prob <= 0.0) return {};
  const double keep = 1.0 - drop_prob;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  auto mask = torch::empty(shape, x.options()).bernoulli_(keep);  // [N, 1, 1, 1]
  return mask / keep;
}

torch::Tensor drop_path(const torch::Tensor& x, double drop_prob) {
  if (drop_prob <= 0.0) return x;
  return x * drop_path_factors(x, drop_prob);
}

double drop_path_rate(double p_max, int64_t epoch, int64_t epochs) {
  return epochs > 0 ? p_max * static_cast<double>(epoch) / static_cast<double>(epochs) : 0.0;
}

}  // namespace dnas::eval
