#pragma once
// The [run] keys every run has (threads, device, output, progress, test stops), for the key
// tables of the search and retrain configs.
#include "dnas/core/config_keys.h"
#include "dnas/loop/run_settings.h"

namespace dnas::loop {

// run.device changes results (another device rounds differently); the other [run] keys do not.
void add_run_keys(core::KeyTable& table, RunSettings& run);

}  // namespace dnas::loop
