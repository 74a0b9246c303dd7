#include "dnas/search/gdas_config.h"

#include "config_checks.h"

namespace dnas::search {
namespace {

constexpr ModeName<GdasDerive> kDeriveNames[] = {{GdasDerive::Darts, "darts"}, {GdasDerive::Autodl, "autodl"}};

}  // namespace

GdasDerive parse_gdas_derive(const std::string& value) { return parse_mode(kDeriveNames, value, "gdas.derive"); }
const char* mode_name(GdasDerive mode) { return mode_name(kDeriveNames, mode); }

void validate(const GdasConfig& c) {
  require(c.tau_max > 0 && c.tau_min > 0 && c.tau_min <= c.tau_max, "gdas.tau_min",
          "need 0 < gdas.tau_min <= gdas.tau_max");
  parse_gdas_derive(c.derive);
}

}  // namespace dnas::search
