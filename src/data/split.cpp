#include "dnas/data/split.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>
#include <random>

#include "dnas/core/error.h"
#include "dnas/data/rng.h"

namespace dnas::data {
namespace {

std::string format_fractions(const std::vector<double>& fractions) {
  std::string s = "{";
  for (size_t i = 0; i < fractions.size(); ++i) s += (i ? ", " : "") + std::to_string(fractions[i]);
  return s + "}";
}

torch::Tensor to_index_tensor(const std::vector<int64_t>& values, size_t begin, size_t end) {
  auto t = torch::empty({static_cast<int64_t>(end - begin)}, torch::kInt64);  // [end - begin]
  std::copy(values.begin() + begin, values.begin() + end, t.data_ptr<int64_t>());
  return t;
}

}  // namespace

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(n, 0)));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 rng(seed);
  fisher_yates(order, rng);
  return order;
}

std::vector<torch::Tensor> split_indices(int64_t n, const SplitOptions& opt) {
  const std::string key = "data.split";
  const std::string fr = format_fractions(opt.fractions);
  if (n <= 0) fail("cannot split an empty set (n=" + std::to_string(n) + ")", key);
  if (opt.fractions.empty()) fail("no split fractions given", key, "e.g. {0.5, 0.5}");
  if (opt.limit < 0) fail("data.limit must be >= 0, got " + std::to_string(opt.limit), key);
  double sum = 0;
  for (double f : opt.fractions) {
    if (!(f > 0))
      fail("split fraction " + std::to_string(f) + " in " + fr + " is not positive", key,
           "every part needs a fraction > 0");
    sum += f;
  }
  if (sum > 1 + 1e-9) fail("split fractions " + fr + " sum to " + std::to_string(sum) + " > 1", key);

  std::vector<int64_t> order;
  if (opt.shuffle) {
    order = permutation(n, opt.seed);
  } else {
    order.resize(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  const int64_t used = opt.limit > 0 ? std::min(opt.limit, n) : n;
  const bool covers_all = std::abs(sum - 1) <= 1e-9;

  // Part i is [floor(cum_{i-1} * used), floor(cum_i * used)); the last takes the rest when sum == 1.
  std::vector<torch::Tensor> parts;
  double cumulative = 0;
  int64_t begin = 0;
  for (size_t i = 0; i < opt.fractions.size(); ++i) {
    cumulative += opt.fractions[i];
    const bool last = i + 1 == opt.fractions.size();
    int64_t end = static_cast<int64_t>(std::floor(cumulative * static_cast<double>(used) + 1e-9));
    end = std::min(end, used);
    if (last && covers_all) end = used;
    if (end <= begin)
      fail("split part " + std::to_string(i) + " of " + fr + " is empty for " + std::to_string(used) + " examples", key,
           "use more examples (data.limit) or larger fractions");
    parts.push_back(to_index_tensor(order, static_cast<size_t>(begin), static_cast<size_t>(end)));
    begin = end;
  }
  return parts;
}

ImageSet subset(const ImageSet& set, const torch::Tensor& indices) {
  if (indices.dim() != 1 || indices.scalar_type() != torch::kInt64)
    fail("subset indices must be a 1-D int64 tensor", "data.subset");
  if (indices.numel() > 0) {
    const int64_t lo = indices.min().item<int64_t>(), hi = indices.max().item<int64_t>();
    if (lo < 0 || hi >= set.size())
      fail("subset index out of range [0, " + std::to_string(set.size()) + "): min " + std::to_string(lo) + ", max " +
               std::to_string(hi),
           "data.subset");
  }
  return {set.images.index_select(0, indices), set.labels.index_select(0, indices)};
}

}  // namespace dnas::data
