#include "dnas/search/itnas_config.h"

#include "config_checks.h"

namespace dnas::search {
namespace {

constexpr ModeName<ItnasDeriveFrom> kDeriveFromNames[] = {{ItnasDeriveFrom::Sample, "sample"},
                                                          {ItnasDeriveFrom::Probs, "probs"}};

}  // namespace

ItnasDeriveFrom parse_itnas_derive_from(const std::string& value) {
  return parse_mode(kDeriveFromNames, value, "itnas.derive_from");
}
const char* mode_name(ItnasDeriveFrom mode) { return mode_name(kDeriveFromNames, mode); }

void validate(const ItnasConfig& c) {
  require(c.tau0 > 0 && c.tau_min > 0 && c.tau_min <= c.tau0, "itnas.tau_min", "need 0 < itnas.tau_min <= itnas.tau0");
  parse_itnas_derive_from(c.derive_from);
  require(!c.tiep || c.transition, "itnas.tiep",
          "TIEP derives inner edges through the transition matrices: set itnas.transition=true or itnas.tiep=false");
}

}  // namespace dnas::search
