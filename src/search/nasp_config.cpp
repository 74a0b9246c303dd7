#include "dnas/search/nasp_config.h"

#include "config_checks.h"

namespace dnas::search {
namespace {

constexpr ModeName<NaspVariant> kVariantNames[] = {
    {NaspVariant::Nasp, "nasp"}, {NaspVariant::Lazy, "lazy"}, {NaspVariant::Standard, "standard"}};
constexpr ModeName<NaspDiscreteValue> kDiscreteValueNames[] = {{NaspDiscreteValue::One, "one"},
                                                               {NaspDiscreteValue::Alpha, "alpha"}};
constexpr ModeName<NaspDerive> kDeriveNames[] = {{NaspDerive::Discrete, "discrete"}, {NaspDerive::Softmax, "softmax"}};

}  // namespace

NaspVariant parse_nasp_variant(const std::string& value) { return parse_mode(kVariantNames, value, "nasp.variant"); }

NaspDiscreteValue parse_nasp_discrete_value(const std::string& value) {
  return parse_mode(kDiscreteValueNames, value, "nasp.discrete_value");
}

NaspDerive parse_nasp_derive(const std::string& value) { return parse_mode(kDeriveNames, value, "nasp.derive"); }

void validate(const NaspConfig& c) {
  parse_nasp_variant(c.variant);
  parse_nasp_discrete_value(c.discrete_value);
  parse_nasp_derive(c.derive);
}

}  // namespace dnas::search
