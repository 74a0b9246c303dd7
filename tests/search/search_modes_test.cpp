// The mode keys of a search config (search.method, gdas.derive, eoinas.forward, ...): every valid
// value round-trips through its parse and name functions, and a bad value is refused, by the
// parser and by search::validate, with a message naming the key and the allowed values.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error_of.h"
#include "dnas/search/search_config.h"

using namespace dnas;
using search::SearchConfig;

namespace {

struct ModeKey {
  std::string key;
  std::vector<std::string> values;                             // every allowed value
  std::function<std::string(const std::string&)> round_trip;   // name(parse(value))
  std::function<void(SearchConfig&, const std::string&)> set;  // the config field of the key
};

// name(parse(value)) for a parse function whose enum has a mode_name overload.
template <class Mode>
std::function<std::string(const std::string&)> through(Mode (*parse)(const std::string&)) {
  return [parse](const std::string& value) { return std::string(search::mode_name(parse(value))); };
}

std::vector<ModeKey> mode_keys() {
  using C = SearchConfig;
  using V = const std::string&;
  return {
      {"search.method",
       {"darts_1st", "darts_2nd", "milenas", "gdas", "eoinas", "itnas", "darts_sc", "milenas_sc", "nasp", "random",
        "random_ws"},
       [](V v) { return std::string(search::method_name(search::parse_method(v))); },
       [](C& c, V v) { c.run.method = v; }},
      {"search.derive_edges",
       {"input", "output"},
       through(search::parse_derive_edges),
       [](C& c, V v) { c.optim.derive_edges = v; }},
      {"gdas.derive", {"darts", "autodl"}, through(search::parse_gdas_derive), [](C& c, V v) { c.gdas.derive = v; }},
      {"eoinas.forward",
       {"soft", "hard"},
       through(search::parse_eoinas_forward),
       [](C& c, V v) { c.eoinas.forward = v; }},
      {"eoinas.acc_stat",
       {"last", "mean"},
       through(search::parse_eoinas_acc_stat),
       [](C& c, V v) { c.eoinas.acc_stat = v; }},
      {"eoinas.alpha_init",
       {"zeros", "random"},
       through(search::parse_eoinas_alpha_init),
       [](C& c, V v) { c.eoinas.alpha_init = v; }},
      {"eoinas.C_when_Ce0",
       {"0", "inf"},
       through(search::parse_eoinas_C_when_Ce0),
       [](C& c, V v) { c.eoinas.C_when_Ce0 = v; }},
      {"sc.variant", {"stretchable", "fixed2"}, through(search::parse_sc_variant), [](C& c, V v) { c.sc.variant = v; }},
      {"sc.perspective",
       {"output", "input"},
       through(search::parse_sc_perspective),
       [](C& c, V v) { c.sc.perspective = v; }},
      {"sc.orphan", {"drop", "repair"}, through(search::parse_sc_orphan), [](C& c, V v) { c.sc.orphan = v; }},
      {"sc.val_split",
       {"auto", "shared", "separate"},
       through(search::parse_sc_val_split),
       [](C& c, V v) { c.sc.val_split = v; }},
      {"itnas.derive_from",
       {"sample", "probs"},
       through(search::parse_itnas_derive_from),
       [](C& c, V v) { c.itnas.derive_from = v; }},
  };
}

}  // namespace

TEST(SearchModes, EveryValidValueRoundTripsThroughParseAndName) {
  for (const auto& k : mode_keys())
    for (const auto& value : k.values) EXPECT_EQ(k.round_trip(value), value) << k.key;
}

TEST(SearchModes, ABadValueFailsNamingTheKeyAndTheAllowedValues) {
  for (const auto& k : mode_keys()) {
    const auto message = dnas::testing::error_of([&] { k.round_trip("Bogus"); });
    EXPECT_NE(message.find("'Bogus'"), std::string::npos) << k.key << ": " << message;
    EXPECT_NE(message.find("[" + k.key + "]"), std::string::npos) << k.key << ": " << message;
    for (const auto& value : k.values) EXPECT_NE(message.find(value), std::string::npos) << k.key << ": " << message;
  }
}

TEST(SearchModes, ValidateRefusesABadValueNamingTheKey) {
  for (const auto& k : mode_keys()) {
    SearchConfig c;
    EXPECT_NO_THROW(search::validate(c));
    for (const auto& bad : std::vector<std::string>{"", "Bogus", k.values.front() + " "}) {  // spelled exactly
      k.set(c, bad);
      EXPECT_NE(dnas::testing::error_of([&] { search::validate(c); }).find("[" + k.key + "]"), std::string::npos)
          << k.key << " = '" << bad << "'";
    }
  }
}

TEST(SearchModes, KnownMethodsAreTheParsersMethods) {
  EXPECT_TRUE(search::is_known_method("darts_sc"));
  EXPECT_FALSE(search::is_known_method("darts_3rd"));
  EXPECT_EQ(search::known_methods_text().find("darts_1st, darts_2nd, "), 0u);
}
