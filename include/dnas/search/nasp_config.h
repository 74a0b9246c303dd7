#pragma once
// NASP settings (docs/methods.md 7) and their modes.
#include <string>

namespace dnas::search {

struct NaspConfig {
  std::string variant =
      "nasp";  // nasp.variant: nasp (box + discrete) | lazy (no box) | standard (Eq. 9: prox onto the discrete box set)
  std::string discrete_value = "one";  // nasp.discrete_value: one (the code) | alpha (keep alpha's value)
  bool edge_top2 = true;               // nasp.edge_top2: keep the 2 strongest incoming edges per node
  double eta = 0.0;                    // nasp.eta: weight of the complexity regulariser R(A)
  double greedy = 0.0;                 // nasp.greedy: probability of random ops in a forward (exploration)
  std::string derive = "discrete";     // nasp.derive: discrete | softmax (the code's genotype())
  bool restrict7 = false;              // nasp.restrict7: nasp7 normal cells skip + convs, reduction cells skip + pools
};

// nasp.variant: nasp (box + discrete, Alg. 1) | lazy (no box, Eq. 10) | standard (Eq. 9: prox onto
// the discrete box set).
enum class NaspVariant { Nasp, Lazy, Standard };
NaspVariant parse_nasp_variant(const std::string& value);  // throws dnas::Error naming nasp.variant
// nasp.discrete_value: one (the code) | alpha (keep alpha's value)
enum class NaspDiscreteValue { One, Alpha };
NaspDiscreteValue parse_nasp_discrete_value(const std::string& value);  // throws naming nasp.discrete_value
// nasp.derive: discrete | softmax (the code's genotype())
enum class NaspDerive { Discrete, Softmax };
NaspDerive parse_nasp_derive(const std::string& value);  // throws naming nasp.derive

// Checks the modes; throws dnas::Error naming the offending key. (Ranges: the key table.)
void validate(const NaspConfig& config);

}  // namespace dnas::search
