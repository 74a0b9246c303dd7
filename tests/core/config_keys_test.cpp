#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "dnas/core/config_keys.h"
#include "dnas/core/error.h"

using dnas::core::KeyTable;

namespace {

struct Settings {
  double rate = 0.025;
  int64_t count = 3;
  uint64_t seed = 0;
  bool flag = false;
  std::string name = "a";
  std::vector<std::string> list;
  int64_t threads = 0;
};

KeyTable table_of(Settings& s) {
  KeyTable t;
  t.add("opt.rate", &s.rate, "a rate").at_least(0);
  t.add("opt.count", &s.count, "a count").within(1, 10);
  t.add("opt.seed", &s.seed, "a seed");
  t.add("data.flag", &s.flag, "a flag");
  t.add("data.name", &s.name, "a name");
  t.add("data.list", &s.list, "a list");
  t.add("run.threads", &s.threads, "threads").run_only();
  return t;
}

std::string error_of(const KeyTable& t, const std::string& key, const std::string& value) {
  try {
    dnas::core::set_key(t, key, value, "file.ini", "see --help");
  } catch (const dnas::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConfigKeys, DoublesRoundTripBitForBitThroughTheirText) {
  Settings s, back;
  const auto t = table_of(s), u = table_of(back);
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 3e-4, 0.025, 1e-300, 123456789.123456789, 5e-5, 7820.0}) {
    s.rate = v;
    dnas::core::set_key(u, "opt.rate", dnas::core::format_value(t.find("opt.rate")->field), "x", "");
    EXPECT_EQ(std::memcmp(&back.rate, &v, sizeof v), 0) << dnas::core::format_value(&s.rate);
  }
  s.rate = 0.1 + 0.2;
  EXPECT_EQ(dnas::core::format_value(&s.rate), "0.30000000000000004");  // not the 6 digits of an ostream
  s.rate = 0.025;
  EXPECT_EQ(dnas::core::format_value(&s.rate), "0.025");
}

TEST(ConfigKeys, IniTextGroupsSectionsAndIdentityLeavesOutRunOnlyKeys) {
  Settings s;
  s.list = {"x", "y"};
  s.flag = true;
  const auto t = table_of(s);
  EXPECT_EQ(
      dnas::core::to_ini(t),
      "[opt]\nrate = 0.025\ncount = 3\nseed = 0\n[data]\nflag = true\nname = a\nlist = x y\n[run]\nthreads = 0\n");
  EXPECT_EQ(dnas::core::identity_text(t),
            "[opt]\nrate = 0.025\ncount = 3\nseed = 0\n[data]\nflag = true\nname = a\nlist = x y\n");
  Settings back;
  const auto u = table_of(back);
  dnas::core::set_key(u, "data.list", "x  y", "x", "");
  dnas::core::set_key(u, "data.flag", "yes", "x", "");
  EXPECT_EQ(back.list, s.list);
  EXPECT_TRUE(back.flag);
}

TEST(ConfigKeys, BadValuesAndRangesNameTheKeyAndWhere) {
  Settings s;
  const auto t = table_of(s);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{{"opt.count", "3.5"},
                                                                                   {"opt.count", "12abc"},
                                                                                   {"opt.count", "11"},
                                                                                   {"opt.count", "0"},
                                                                                   {"opt.rate", "-1"},
                                                                                   {"opt.rate", "inf"},
                                                                                   {"opt.rate", "fast"},
                                                                                   {"opt.seed", "-1"},
                                                                                   {"data.flag", "maybe"}}) {
    const auto msg = error_of(t, key, value);
    EXPECT_NE(msg.find(key), std::string::npos) << key << "=" << value << ": " << msg;
    EXPECT_NE(msg.find("file.ini"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of(t, "opt.rate", "inf").find("finite"), std::string::npos);
  EXPECT_NE(error_of(t, "opt.count", "11").find("between 1 and 10"), std::string::npos);
  EXPECT_NE(error_of(t, "opt.speed", "1").find("unknown key 'opt.speed'"), std::string::npos);
  EXPECT_EQ(error_of(t, "opt.count", "10"), "");
  EXPECT_EQ(s.count, 10);
  s.rate = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(dnas::core::check_ranges(t, "here"), dnas::Error);
}

TEST(ConfigKeys, HelpShowsTheBounds) {
  Settings s;
  const auto t = table_of(s);
  EXPECT_EQ(dnas::core::help_text(*t.find("opt.count")), "a count [1 .. 10]");
  EXPECT_EQ(dnas::core::help_text(*t.find("opt.rate")), "a rate [>= 0]");
  EXPECT_EQ(dnas::core::help_text(*t.find("data.name")), "a name");
}
