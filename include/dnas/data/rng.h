#pragma once
// Small, portable random helpers for the data pipeline. Everything here is deterministic
// across platforms and standard libraries (no std::uniform_int_distribution, no torch RNG).
#include <cstdint>
#include <utility>
#include <vector>

namespace dnas::data {

// The splitmix64 finaliser: a strong 64-bit mix of x.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Combines a seed with one more value (an epoch, an index, ...) into a new seed.
inline uint64_t mix_seed(uint64_t seed, uint64_t value) { return splitmix64(seed ^ splitmix64(value)); }

// A tiny generator (the splitmix64 stream): cheap to seed, fine for per-sample draws.
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    const uint64_t current = state_;
    state_ += 0x9e3779b97f4a7c15ULL;
    return splitmix64(current);  // mixes current + golden, i.e. the standard splitmix64 stream
  }

 private:
  uint64_t state_;
};

// Unbiased integer in [0, bound) from a generator with full 64-bit output (rejection sampling).
template <class Rng>
uint64_t uniform_below(Rng& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    const uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

// In-place Fisher-Yates shuffle of `values`.
template <class Rng, class T>
void fisher_yates(std::vector<T>& values, Rng& rng) {
  for (size_t i = values.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(uniform_below(rng, i));
    std::swap(values[i - 1], values[j]);
  }
}

}  // namespace dnas::data
