#pragma once
// Settings of the random baselines: `random` (a uniformly random genotype, no search) and
// `random_ws` (random search with weight sharing: the supernet trains on one random architecture
// per step; the final pick is the best of `candidates` random architectures on D_val).
#include <cstdint>

namespace dnas::search {

struct RandomConfig {
  int candidates = 100;      // random.candidates: architectures scored after the last epoch
  int64_t eval_batches = 2;  // random.eval_batches: D_val batches scoring each candidate
};

}  // namespace dnas::search
