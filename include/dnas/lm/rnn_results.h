#pragma once
// results.h5 of a recurrent search and/or retrain (kind "rnn"), rewritten atomically after
// every epoch so a stopped run keeps what it finished:
//   /search  attrs method, genotype, seconds, step_seconds, weight_steps, edge_evaluations;
//            train_ppl [E], valid_ppl [E], alphas [E, edges, ops], ops, genotypes [E]
//   /retrain attrs genotype, params, best_valid_ppl, test_ppl, asgd_epoch, seconds;
//            train_ppl [E], valid_ppl [E]
#include <string>

#include "dnas/lm/rnn_search.h"
#include "dnas/lm/rnn_train.h"

namespace dnas::lm {

struct RnnRunRecord {
  const RnnConfig* config = nullptr;
  int64_t vocab = 0;
  const RnnSearchResult* search = nullptr;  // null: no search (dnas rnn train)
  const RnnTrainResult* retrain = nullptr;  // null: not retrained (yet)
  std::string status = "running";           // running | finished | failed
  std::string error;
};

void write_rnn_results(const std::string& path, const RnnRunRecord& record);

// "method  genotype  search s  valid ppl  test ppl  params" for the terminal.
std::string format_rnn_table(const RnnRunRecord& record);

}  // namespace dnas::lm
