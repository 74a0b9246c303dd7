#pragma once
// Settings of a recurrent-cell search and retrain on a word-level corpus (docs/methods.md 7, RNN).
// Defaults are the PTB settings of the reference code; the INI keys are `section.field`.
#include <cstdint>
#include <string>
#include <vector>

#include "dnas/lm/rnn_model.h"

namespace dnas::lm {

// search.method of `dnas rnn search`
enum class RnnSearchMethod { Darts1st, Darts2nd, Nasp };
RnnSearchMethod parse_rnn_search_method(const std::string& value);  // throws naming search.method

struct RnnSearchSettings {
  std::string method = "darts_1st";  // darts_1st | darts_2nd | nasp
  uint64_t seed = 2;
  int epochs = 50;
  int64_t batch_size = 256;      // D_train and the arch batches from the valid split
  int64_t eval_batch_size = 10;  // per-epoch validation perplexity
  int64_t bptt = 35;             // mean sequence length (randomised as in the reference)
  int64_t steps_per_epoch = 0;   // cap on weight steps per epoch (0 = a full pass)
  int64_t eval_batches = 0;      // cap on validation batches (0 = all)
  double lr = 20, weight_decay = 5e-7, clip = 0.25;
  double ar = 0, tar = 1e-3;  // activation / temporal activation regularisation
  double arch_lr = 3e-3, arch_beta1 = 0.9, arch_beta2 = 0.999, arch_weight_decay = 1e-3;
  double hessian_radius = 0.01;  // darts_2nd: eps = r / ||v||
  std::vector<std::string> ops;  // empty: the method's default (search_ops)
};

// The candidate activations of a search: `ops`, or by default (docs/methods.md 7) tanh, relu,
// sigmoid, identity, with `none` in front for DARTS (NASP leaves it out).
std::vector<std::string> search_ops(const RnnSearchSettings& s);

struct RnnRetrainSettings {
  std::string genotype;  // `dnas rnn train`: text form or DARTS_V1 / DARTS_V2
  uint64_t seed = 0;     // 0 = the search seed
  int epochs = 0;        // 0 = no retrain after a search
  int64_t hidden = 850;
  int64_t batch_size = 64, eval_batch_size = 10, test_batch_size = 1, bptt = 35;
  int64_t steps_per_epoch = 0, eval_batches = 0;
  double lr = 20, weight_decay = 8e-7, clip = 0.25, ar = 0, tar = 1e-3;
  double dropout = 0.75, dropout_h = 0.25, dropout_x = 0.75, dropout_i = 0.2, dropout_e = 0.1;
  bool asgd = true;              // switch SGD -> averaged SGD when validation stalls
  int nonmono = 5;               // ... i.e. is worse than the best of all but the last `nonmono` epochs
  std::string checkpoint;        // retrain state at every epoch end and at a stop (empty = none; set by dnas rnn)
  bool resume = false;           // continue from `checkpoint` when it exists
  int64_t stop_after_steps = 0;  // checkpoint and stop as if asked after this many steps (0 = never)
  ops::Precision precision = ops::Precision::Fp32;  // run.precision
};

struct RnnConfig {
  std::string corpus;        // directory with train/valid/test text files
  int64_t limit_tokens = 0;  // first N tokens of each split (0 = all)
  RnnModelConfig model;      // search network (vocab comes from the corpus)
  RnnSearchSettings search;
  RnnRetrainSettings retrain;
  std::string out_dir = "runs/rnn";
  std::string checkpoint;        // search state at every epoch end and at a stop (empty = none)
  bool resume = false;           // continue the search from `checkpoint`
  int64_t stop_after_steps = 0;  // checkpoint and stop the search as if asked after this many steps (0 = never)
  bool progress = true;
  std::string config_text;  // the resolved INI, stored in results.h5
};

// Throws naming the key for values outside their range and unknown methods/ops.
void validate(const RnnConfig& config);

}  // namespace dnas::lm
