#pragma once
// The key table of SearchConfig (docs/methods.md defaults): every section.key of a search, its
// help, range and whether it changes results; options, INI text and identity derive from it.
#include <string>

#include "dnas/core/config_keys.h"
#include "dnas/search/search_config.h"

namespace dnas::search {

// Keys bound to the fields of `config` (the table is valid while `config` is).
core::KeyTable search_keys(SearchConfig& config);

// Every key as INI text at full precision (what a run writes as config.ini and reads back exactly).
std::string config_text(const SearchConfig& config);
// The keys that change results only: two searches with equal identities compute the same thing.
std::string identity_text(const SearchConfig& config);

}  // namespace dnas::search
