#pragma once
// Every setting of a search run, with docs/methods.md defaults. The cli module fills it from an
// INI file plus command-line overrides (key names in comments: section.key).
#include <cstdint>
#include <string>
#include <vector>

#include "dnas/loop/run_settings.h"

namespace dnas::search {

struct DataConfig {
  std::string dataset = "fashion_mnist";  // data.dataset: fashion_mnist mnist cifar10 cifar100
  std::string root;                       // data.root: "" = the dataset's default location
  bool split_shuffle = false;             // data.split_shuffle: shuffle before D_train/D_val
  double train_portion = 0.5;             // data.train_portion: share of D_train
  int64_t limit = 0;                      // data.limit: use only this many training images (0 = all)
  int64_t batch_size = 64;                // data.batch_size
  int64_t crop_padding = 4;               // data.crop_padding: random-crop padding (0 = off)
  bool flip = true;                       // data.flip: random horizontal flip
};

struct SupernetSettings {
  int64_t channels = 16;     // supernet.channels
  int64_t layers = 8;        // supernet.layers
  int64_t steps = 4;         // supernet.steps (intermediate nodes)
  int64_t stem_multiplier = 3;
  std::string op_set = "darts8";  // supernet.op_set
  std::vector<std::string> normal_ops, reduce_ops;  // supernet.normal_ops/reduce_ops override op_set
};

struct OptimConfig {
  int64_t epochs = 50;             // search.epochs
  double w_lr = 0.025;             // search.w_lr: cosine from here ...
  double w_lr_min = 0.001;         // search.w_lr_min: ... down to here
  double w_momentum = 0.9;         // search.w_momentum
  bool w_nesterov = false;         // search.w_nesterov: Nesterov momentum (the GDAS code)
  double w_weight_decay = 3e-4;    // search.w_weight_decay
  double w_grad_clip = 5.0;        // search.w_grad_clip (global norm, 0 = off)
  double arch_lr = 3e-4;           // search.arch_lr (Adam)
  double arch_beta1 = 0.5;         // search.arch_beta1
  double arch_beta2 = 0.999;       // search.arch_beta2
  double arch_weight_decay = 1e-3; // search.arch_weight_decay
  double hessian_radius = 0.01;    // search.hessian_radius: r in eps = r/||v|| (DARTS 2nd order)
  int64_t steps_per_epoch = 0;     // search.steps_per_epoch: cap on iterations (0 = full epoch)
  int64_t eval_batches = 0;        // search.eval_batches: cap on D_val batches in the per-epoch eval
  // search.derive_edges (darts_1st, darts_2nd): input = each node keeps its 2 strongest inputs
  // (docs/methods.md 1.6) | output = each state keeps its 2 strongest outputs (SC paper Table 5)
  std::string derive_edges = "input";
};

struct GdasConfig {
  double tau_max = 10.0;         // gdas.tau_max: temperature at the first epoch
  double tau_min = 0.1;          // gdas.tau_min: temperature at the last epoch
  std::string derive = "darts";  // gdas.derive: darts (docs/methods.md 1.6) | autodl (top-2 (op,src) pairs)
};

struct MilenasConfig {
  double lambda = 1.0;  // milenas.lambda: weight of the validation-loss gradient
  bool clip_arch_grads_like_code = false;  // milenas.clip_arch_grads_like_code: clip alpha's gradient norm (to search.w_grad_clip) instead of w's
};

struct EoinasConfig {
  int64_t warmup_epochs = 20;        // eoinas.warmup_epochs: w only, no alpha steps, no statistics
  int64_t prune_every = 20;          // eoinas.prune_every: prune at the end of 1-based epochs warmup + k*this
  double lambda = 0.5;               // eoinas.lambda: I = softmax(alpha) + lambda * Ca / Ce (0 = "Baseline+GOP")
  bool prune = true;                 // eoinas.prune: gradual operation pruning (false: no GOP)
  std::string forward = "soft";      // eoinas.forward: soft (Gumbel softmax, every remaining op) | hard (GDAS ST)
  std::string acc_stat = "last";     // eoinas.acc_stat: last (the code) | mean (since the last prune)
  double temp0 = 5.0;                // eoinas.temp0: temperature during warm-up and at its end
  double temp_decay = 0.965;         // eoinas.temp_decay: T_e = temp0 * decay^(e - warmup) afterwards
  std::string alpha_init = "zeros";  // eoinas.alpha_init: zeros (paper) | random (1e-3 N(0,1), the code)
  double arch_grad_clip = 0.0;       // eoinas.arch_grad_clip: clip alpha gradients (code: 5; 0 = off)
  double c_reference_window = 7820;  // eoinas.c_reference_window: C scaled by N / this (the paper's 20 epochs x 391 steps; 0 = unscaled)
  std::string C_when_Ce0 = "0";      // eoinas.C_when_Ce0: 0 (C = 0 for an op not trained since the last prune) | inf (the code: never pruned)
  bool skip_dropout = false;         // eoinas.skip_dropout: the code's dropout on skip_connect outputs
};

struct ScConfig {
  std::string variant = "stretchable";  // sc.variant: stretchable (any topology) | fixed2 ("w/o SC")
  std::string perspective = "output";   // sc.perspective: output | input (Table 5 ablation)
  double lambda = 10.0;                 // sc.lambda: weight of the passive-aggressive regulariser r(beta)
  bool allow_empty_code = false;        // sc.allow_empty_code: include the empty output code
  std::string orphan = "drop";          // sc.orphan: drop | repair (intermediates without inputs)
  std::string val_split = "auto";       // sc.val_split: auto (separate for milenas_sc on imagenet, else shared) | shared | separate
};

struct NaspConfig {
  std::string variant = "nasp";          // nasp.variant: nasp (box + discrete) | lazy (no box) | standard (Eq. 9: prox onto the discrete box set)
  std::string discrete_value = "one";    // nasp.discrete_value: one (the code) | alpha (keep alpha's value)
  bool edge_top2 = true;                 // nasp.edge_top2: keep the 2 strongest incoming edges per node
  double eta = 0.0;                      // nasp.eta: weight of the complexity regulariser R(A)
  double greedy = 0.0;                   // nasp.greedy: probability of random ops in a forward (exploration)
  std::string derive = "discrete";       // nasp.derive: discrete | softmax (the code's genotype())
  bool restrict7 = false;                // nasp.restrict7: nasp7 normal cells skip + convs, reduction cells skip + pools
};

// Random baselines: `random` (a uniformly random genotype, no search) and `random_ws`
// (random search with weight sharing: the supernet trains on one random architecture per
// step; the final pick is the best of `candidates` random architectures on D_val).
struct RandomConfig {
  int candidates = 100;         // random.candidates: architectures scored after the last epoch
  int64_t eval_batches = 2;     // random.eval_batches: D_val batches scoring each candidate
};

struct ItnasConfig {
  double tau0 = 10.0;                  // itnas.tau0: Gumbel temperature at the first epoch (value lost; GDAS's)
  double tau_min = 0.1;                // itnas.tau_min: at the last epoch (linear decay)
  std::string derive_from = "sample";  // itnas.derive_from: sample | probs (what outer predecessors pass on)
  bool gumbel = true;                  // itnas.gumbel: annealed Gumbel softmax on outer edges (off: softmax)
  bool transition = true;              // itnas.transition: inner edges through T and attention (off: own theta)
  bool tiep = true;                    // itnas.tiep: TIEP derivation (off: DARTS rule on the soft weights)
};

struct RunConfig : loop::RunSettings {
  RunConfig() { out_dir = "runs/search"; }
  std::string method = "darts_1st";  // search.method
};

struct SearchConfig {
  DataConfig data;
  SupernetSettings supernet;
  OptimConfig optim;
  GdasConfig gdas;
  MilenasConfig milenas;
  ItnasConfig itnas;
  EoinasConfig eoinas;
  ScConfig sc;
  NaspConfig nasp;
  RandomConfig random;
  RunConfig run;
};

// Resolved candidate op lists (explicit lists win over op_set; nasp.restrict7 splits nasp7);
// validates op names.
std::vector<std::string> normal_op_names(const SearchConfig& c);
std::vector<std::string> reduce_op_names(const SearchConfig& c);

// Checks ranges and names; throws dnas::Error naming the offending key.
void validate(const SearchConfig& config);

}  // namespace dnas::search
