#pragma once
// GDAS settings (docs/methods.md 3).
#include <string>

namespace dnas::search {

// gdas.derive: darts (docs/methods.md 1.6) | autodl (top-2 (op,src) pairs)
enum class GdasDerive { Darts, Autodl };
GdasDerive parse_gdas_derive(const std::string& value);  // throws dnas::Error naming gdas.derive
const char* mode_name(GdasDerive mode);

struct GdasConfig {
  double tau_max = 10.0;         // gdas.tau_max: temperature at the first epoch
  double tau_min = 0.1;          // gdas.tau_min: temperature at the last epoch
  std::string derive = "darts";  // gdas.derive: darts (docs/methods.md 1.6) | autodl (top-2 (op,src) pairs)
};

// Checks ranges and modes; throws dnas::Error naming the offending key.
void validate(const GdasConfig& config);

}  // namespace dnas::search
