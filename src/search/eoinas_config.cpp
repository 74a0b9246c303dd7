#include "dnas/search/eoinas_config.h"

#include "config_checks.h"

namespace dnas::search {
namespace {

constexpr ModeName<EoinasForward> kForwardNames[] = {{EoinasForward::Soft, "soft"}, {EoinasForward::Hard, "hard"}};
constexpr ModeName<EoinasAccStat> kAccStatNames[] = {{EoinasAccStat::Last, "last"}, {EoinasAccStat::Mean, "mean"}};
constexpr ModeName<EoinasAlphaInit> kAlphaInitNames[] = {{EoinasAlphaInit::Zeros, "zeros"},
                                                         {EoinasAlphaInit::Random, "random"}};
constexpr ModeName<EoinasCWhenCe0> kCWhenCe0Names[] = {{EoinasCWhenCe0::Zero, "0"}, {EoinasCWhenCe0::Inf, "inf"}};

}  // namespace

EoinasForward parse_eoinas_forward(const std::string& value) {
  return parse_mode(kForwardNames, value, "eoinas.forward");
}
EoinasAccStat parse_eoinas_acc_stat(const std::string& value) {
  return parse_mode(kAccStatNames, value, "eoinas.acc_stat");
}
EoinasAlphaInit parse_eoinas_alpha_init(const std::string& value) {
  return parse_mode(kAlphaInitNames, value, "eoinas.alpha_init");
}
EoinasCWhenCe0 parse_eoinas_C_when_Ce0(const std::string& value) {
  return parse_mode(kCWhenCe0Names, value, "eoinas.C_when_Ce0");
}
const char* mode_name(EoinasForward mode) { return mode_name(kForwardNames, mode); }
const char* mode_name(EoinasAccStat mode) { return mode_name(kAccStatNames, mode); }
const char* mode_name(EoinasAlphaInit mode) { return mode_name(kAlphaInitNames, mode); }
const char* mode_name(EoinasCWhenCe0 mode) { return mode_name(kCWhenCe0Names, mode); }

void validate(const EoinasConfig& c) {
  parse_eoinas_forward(c.forward);
  parse_eoinas_acc_stat(c.acc_stat);
  require(c.temp0 > 0 && c.temp_decay > 0 && c.temp_decay <= 1, "eoinas.temp_decay",
          "need eoinas.temp0 > 0 and 0 < eoinas.temp_decay <= 1");
  parse_eoinas_alpha_init(c.alpha_init);
  parse_eoinas_C_when_Ce0(c.C_when_Ce0);
}

}  // namespace dnas::search
