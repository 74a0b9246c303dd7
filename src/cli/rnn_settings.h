#pragma once
// The settings of `dnas rnn search|train` (the recurrent space's config plus the op list as
// written and the thread count) and their key table.
#include <string>

#include "dnas/core/config_keys.h"
#include "dnas/lm/rnn_config.h"

namespace dnas::cli {

struct RnnSettings {
  lm::RnnConfig config;
  std::string ops = "auto";        // search.ops as written: "auto" or a space-separated list
  int threads = 0;                 // run.threads
  std::string precision = "fp32";  // run.precision: fp32 | bf16
};

core::KeyTable rnn_keys(RnnSettings& settings);

}  // namespace dnas::cli
