#pragma once
// Every setting of a search run, with docs/methods.md defaults. The cli module fills it from an
// INI file plus command-line overrides (key names in comments: section.key).
#include <cstdint>
#include <string>
#include <vector>

#include "dnas/data/data_settings.h"
#include "dnas/loop/run_settings.h"
#include "dnas/search/eoinas_config.h"
#include "dnas/search/gdas_config.h"
#include "dnas/search/itnas_config.h"
#include "dnas/search/milenas_config.h"
#include "dnas/search/nasp_config.h"
#include "dnas/search/random_config.h"
#include "dnas/search/sc_config.h"

namespace dnas::search {

struct DataConfig : data::DataSettings {
  bool split_shuffle = false;  // data.split_shuffle: shuffle before D_train/D_val
  double train_portion = 0.5;  // data.train_portion: share of D_train
};

struct SupernetSettings {
  int64_t channels = 16;  // supernet.channels
  int64_t layers = 8;     // supernet.layers
  int64_t steps = 4;      // supernet.steps (intermediate nodes)
  int64_t stem_multiplier = 3;
  bool channels_last = true;                        // supernet.channels_last
  std::string op_set = "darts8";                    // supernet.op_set
  std::vector<std::string> normal_ops, reduce_ops;  // supernet.normal_ops/reduce_ops override op_set
};

// search.derive_edges (darts_1st, darts_2nd): each node keeps its 2 strongest inputs | each state
// its 2 strongest outputs
enum class DeriveEdges { Input, Output };
DeriveEdges parse_derive_edges(const std::string& value);  // throws dnas::Error naming search.derive_edges
const char* mode_name(DeriveEdges mode);

struct OptimConfig {
  int64_t epochs = 50;              // search.epochs
  double w_lr = 0.025;              // search.w_lr: cosine from here ...
  double w_lr_min = 0.001;          // search.w_lr_min: ... down to here
  double w_momentum = 0.9;          // search.w_momentum
  bool w_nesterov = false;          // search.w_nesterov: Nesterov momentum (the GDAS code)
  double w_weight_decay = 3e-4;     // search.w_weight_decay
  double w_grad_clip = 5.0;         // search.w_grad_clip (global norm, 0 = off)
  double arch_lr = 3e-4;            // search.arch_lr (Adam)
  double arch_beta1 = 0.5;          // search.arch_beta1
  double arch_beta2 = 0.999;        // search.arch_beta2
  double arch_weight_decay = 1e-3;  // search.arch_weight_decay
  double hessian_radius = 0.01;     // search.hessian_radius: r in eps = r/||v|| (DARTS 2nd order)
  int64_t steps_per_epoch = 0;      // search.steps_per_epoch: cap on iterations (0 = full epoch)
  int64_t eval_batches = 0;         // search.eval_batches: cap on D_val batches in the per-epoch eval
  // search.derive_edges (darts_1st, darts_2nd): input = each node keeps its 2 strongest inputs
  // (docs/methods.md 1.6) | output = each state keeps its 2 strongest outputs (SC paper Table 5)
  std::string derive_edges = "input";
};

// search.method: the search method a run uses.
enum class Method { Darts1st, Darts2nd, Milenas, Gdas, Eoinas, Itnas, DartsSc, MilenasSc, Nasp, Random, RandomWs };
Method parse_method(const std::string& name);  // throws dnas::Error naming search.method and the methods
const char* method_name(Method method);
bool is_known_method(const std::string& name);
std::string known_methods_text();  // "darts_1st, darts_2nd, ..."

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
