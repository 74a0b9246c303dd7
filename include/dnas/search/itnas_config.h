#pragma once
// ITNAS settings (docs/methods.md 5).
#include <string>

namespace dnas::search {

// itnas.derive_from: what outer predecessors pass on to inner edges, their sample | softmax(theta)
enum class ItnasDeriveFrom { Sample, Probs };
ItnasDeriveFrom parse_itnas_derive_from(const std::string& value);  // throws dnas::Error naming itnas.derive_from
const char* mode_name(ItnasDeriveFrom mode);

struct ItnasConfig {
  double tau0 = 10.0;                  // itnas.tau0: Gumbel temperature at the first epoch (value lost; GDAS's)
  double tau_min = 0.1;                // itnas.tau_min: at the last epoch (linear decay)
  std::string derive_from = "sample";  // itnas.derive_from: sample | probs (what outer predecessors pass on)
  bool gumbel = true;                  // itnas.gumbel: annealed Gumbel softmax on outer edges (off: softmax)
  bool transition = true;              // itnas.transition: inner edges through T and attention (off: own theta)
  bool tiep = true;                    // itnas.tiep: TIEP derivation (off: DARTS rule on the soft weights)
};

// Checks ranges, modes and switches that need each other; throws dnas::Error naming the offending key.
void validate(const ItnasConfig& config);

}  // namespace dnas::search
