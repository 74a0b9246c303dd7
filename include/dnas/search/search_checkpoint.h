#pragma once
// Checkpoints of a search: supernet weights, SGD momentum, the method's state (architecture
// parameters, optimizer moments, statistics), torch's RNG, the data streams' positions, the
// partial statistics of the current epoch and the per-epoch history.
#include <string>
#include <vector>

#include "dnas/data/batch_stream.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/search/search_config.h"
#include "dnas/search/search_loop.h"
#include "dnas/search/strategy.h"
#include "dnas/search/weight_trainer.h"

namespace dnas::search {

struct SearchProgress : loop::LoopPosition {
  BatchStats train, search_val;  // the current epoch's finished steps
  std::vector<EpochRecord> history;
  std::vector<std::vector<NamedTensor>> arch_history;  // [epoch] -> arch_tensors() at its end
};

// The streams whose positions a resume must restore (val_beta may be null).
struct SearchStreams {
  data::BatchStream* train;
  data::BatchStream* val;
  data::BatchStream* val_beta;
};

// The settings that must not change across a resume, as text.
std::string search_fingerprint(const SearchConfig& config);

void save_search_checkpoint(const std::string& path, const SearchConfig& config, WeightTrainer& weights,
                            SearchStrategy& strategy, const SearchStreams& streams, const SearchProgress& progress);

// Restores weights, method state, RNG and val stream positions; throws dnas::Error naming the
// file when it is missing, damaged or written with other settings.
SearchProgress load_search_checkpoint(const std::string& path, const SearchConfig& config, WeightTrainer& weights,
                                      SearchStrategy& strategy, const SearchStreams& streams);

}  // namespace dnas::search
