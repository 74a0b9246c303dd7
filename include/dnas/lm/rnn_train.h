#pragma once
// Retrains a recurrent genotype from scratch as a language model (no node BN, larger hidden
// size) and reports perplexities. SGD switches to averaged SGD (ASGD, t0 = 0) once the
// validation perplexity is worse than the best of all but the last `nonmono` epochs; the
// model with the best validation perplexity (the averaged weights after the switch) is tested.
#include <functional>
#include <string>
#include <vector>

#include "dnas/lm/corpus.h"
#include "dnas/lm/rnn_config.h"

namespace dnas::lm {

struct RnnTrainResult {
  RnnGenotype genotype;
  std::vector<double> train_ppl, valid_ppl;  // per epoch
  double best_valid_ppl = 0, test_ppl = 0;   // test_ppl: after the last epoch, best-validation weights
  int64_t params = 0;
  int asgd_epoch = -1;  // first epoch trained with ASGD, -1 = never
  double seconds = 0;
  bool finished = false;
};

using RnnTrainCallback = std::function<void(const RnnTrainResult&)>;

// The epochs run on the shared loop (loop::run_epochs): a stop request checkpoints at the next
// step boundary (settings.checkpoint) and throws core::Interrupted. on_epoch runs after every
// epoch, and after a resume past a finished epoch, with the result so far.
RnnTrainResult train_rnn(const Corpus& corpus, const RnnGenotype& genotype, const RnnRetrainSettings& settings,
                         bool progress, const RnnTrainCallback& on_epoch = {});

// The retrain network of `settings` for a corpus with `vocab` tokens (for parameter counts).
RnnModelConfig retrain_model_config(const RnnRetrainSettings& settings, int64_t vocab, int steps);

}  // namespace dnas::lm
