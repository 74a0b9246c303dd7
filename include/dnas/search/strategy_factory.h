#pragma once
// Builds a search method by name (search.method); unknown names are errors.
#include <memory>

#include "dnas/data/dataset.h"
#include "dnas/search/search_config.h"
#include "dnas/search/strategy.h"
#include "dnas/supernet/supernet.h"

namespace dnas::search {

// The supernet of a search's settings for a dataset's shape and classes.
supernet::SupernetConfig supernet_config(const SearchConfig& config, const data::DatasetInfo& info,
                                         torch::Device device);

std::unique_ptr<SearchStrategy> make_strategy(const SearchConfig& config, const supernet::SupernetConfig& net);

}  // namespace dnas::search
