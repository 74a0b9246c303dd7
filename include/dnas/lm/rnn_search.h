#pragma once
// Recurrent-cell search on a word-level corpus: DARTS first/second order (softmax mixing of
// every edge) and NASP (discrete forward, proximal alpha updates in [0, 1]). Alternates one
// architecture step on a valid-split batch with one weight step on a train batch, as the
// reference RNN search does. The epochs run on the shared loop (loop::run_epochs): a stop
// request checkpoints at the next step boundary (config.checkpoint) and throws core::Interrupted.
#include <functional>
#include <string>
#include <vector>

#include "dnas/lm/corpus.h"
#include "dnas/lm/rnn_config.h"

namespace dnas::lm {

struct RnnSearchResult {
  std::string method;
  RnnGenotype genotype;                // after the last finished epoch
  std::vector<double> train_ppl;       // per epoch, from the weight-step NLL (with dropout)
  std::vector<double> valid_ppl;       // per epoch, the inference architecture
  std::vector<std::string> genotypes;  // per epoch
  std::vector<torch::Tensor> alphas;   // per epoch, [edges, ops]
  std::vector<std::string> ops;
  int64_t weight_steps = 0;
  int64_t edge_evaluations = 0;         // (edge, activation) pairs computed, all forwards
  int64_t weight_step_evaluations = 0;  // ... of them in weight steps
  int64_t weight_step_positions = 0;    // time steps the weight steps unrolled (sum of sequence lengths)
  double seconds = 0;                   // search wall time, evaluations included
  double step_seconds = 0;              // mean time of one arch + weight step
};

using RnnEpochCallback = std::function<void(const RnnSearchResult&)>;

// on_epoch runs after every epoch, and after a resume past a finished epoch, with the result so
// far (results files are written there).
RnnSearchResult run_rnn_search(const Corpus& corpus, const RnnConfig& config, const RnnEpochCallback& on_epoch = {});

}  // namespace dnas::lm
