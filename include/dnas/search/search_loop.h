#pragma once
// The search driver: data, supernet, method, epochs, logging and outputs.
#include <string>
#include <vector>

#include "dnas/comm/process_group.h"
#include "dnas/genotype/genotype.h"
#include "dnas/search/search_config.h"
#include "dnas/search/strategy_state.h"

namespace dnas::search {

struct EpochRecord {
  int64_t epoch = 0;
  double lr = 0.0;
  double train_loss = 0.0, train_acc = 0.0;  // over the epoch's weight steps
  double search_val_acc = 0.0;               // over the epoch's architecture steps
  double val_loss = 0.0, val_acc = 0.0;      // eval pass over D_val with the inference mix
  double seconds = 0.0;
  std::string genotype;  // derived at the end of the epoch
};

struct SearchResult {
  genotype::Genotype genotype;
  std::vector<EpochRecord> epochs;
  std::vector<std::vector<NamedTensor>> arch_history;  // [epoch] -> the method's arch_tensors()
  int64_t weight_parameters = 0;
  std::vector<std::string> normal_ops, reduce_ops;  // column names of the [E, O] arch tensors
  double seconds = 0.0;
};

// Runs (or resumes, with config.run.resume) a whole search; writes genotype.txt, metrics.csv and
// checkpoint.h5 (every epoch and on a stop request) into config.run.out_dir. Throws
// core::Interrupted after checkpointing when a stop was requested. With a group of several
// ranks, each rank runs its shard of every batch, gradients are averaged, and the leader alone
// writes; every rank returns the same result.
SearchResult run_search(const SearchConfig& config, std::shared_ptr<comm::ProcessGroup> group = comm::solo_group());

// Markdown table of the per-epoch metrics and the final genotype.
std::string format_results_table(const SearchResult& result);

}  // namespace dnas::search
