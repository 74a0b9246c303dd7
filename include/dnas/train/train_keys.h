#pragma once
// The key table of TrainConfig: every section.key of a retrain, its help, range and whether it
// changes results; options, INI text and identity derive from it.
#include <string>

#include "dnas/core/config_keys.h"
#include "dnas/train/train_config.h"

namespace dnas::train {

// Keys bound to the fields of `config` (the table is valid while `config` is).
core::KeyTable train_keys(TrainConfig& config);

// Every key as INI text at full precision.
std::string config_text(const TrainConfig& config);

}  // namespace dnas::train
