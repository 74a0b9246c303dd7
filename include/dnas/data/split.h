#pragma once
// Index splits of a training set for search (docs/methods.md 1.4): by default D_train = first half,
// D_val = second half, in dataset order; shuffle=true permutes first, deterministically per seed.
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dnas/data/dataset.h"

namespace dnas::data {

struct SplitOptions {
  std::vector<double> fractions = {0.5, 0.5};  // one per part, each > 0, sum <= 1
  bool shuffle = false;
  uint64_t seed = 0;
  int64_t limit = 0;  // > 0: use only the first `limit` examples (after shuffling if shuffle)
};

// Disjoint index parts of [0, n): each [n_i] int64, in dataset order (or the shuffled order).
// Part i gets floor(fraction_i * m) examples (m = n or limit); when the fractions sum to 1 the
// last part takes the remainder, so the parts cover all m examples.
std::vector<torch::Tensor> split_indices(int64_t n, const SplitOptions& opt);

// A permutation of [0, n) from a std::mt19937_64 seeded with `seed` (Fisher-Yates).
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

// The examples of `set` at `indices` ([k] int64), in that order (copies the rows).
ImageSet subset(const ImageSet& set, const torch::Tensor& indices);

}  // namespace dnas::data
