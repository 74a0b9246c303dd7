#pragma once
// The interface every search method implements (DARTS, MiLeNAS, GDAS, EoiNAS, ITNAS, SC,
// NASP). A method owns its architecture parameters and optimizer, decides per iteration how
// the supernet mixes ops (an ArchMix) and in which order weights and architecture update.
#include <torch/types.h>

#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "dnas/genotype/genotype.h"
#include "dnas/search/strategy_state.h"
#include "dnas/search/weight_trainer.h"
#include "dnas/supernet/cell_mix.h"

namespace dnas::search {

struct EpochInfo {
  int64_t epoch = 0;   // 0-based
  int64_t epochs = 1;  // total
  double w_lr = 0.0;   // learning rate of the network weights in this epoch
};

// The batches of one search iteration (augmented, from disjoint splits of the training set).
struct StepBatches {
  TensorBatch train;     // from D_train: the weight step (and MiLeNAS's training-loss term)
  TensorBatch val;       // from D_val: the architecture step
  TensorBatch val_beta;  // from a third split D_val_beta, only when needs().validation_splits == 2
};

struct StepResult {
  BatchStats train;  // from the weight step's forward
  BatchStats val;    // from the architecture step's forward (count 0 when there was none)
};

// What a method needs from the search loop, declared once.
struct StrategyNeeds {
  // 2 for a method whose second parameter set learns on its own split (MiLeNAS-SC's beta): the
  // loop then splits the data three ways into equal parts and fills batches.val_beta.
  int validation_splits = 1;
  // False for a method that needs no supernet training (the random-genotype baseline): the
  // loop then runs no epochs.
  bool trains_supernet = true;
};

class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;
  // Schedules that change per epoch (temperatures, pruning) hook in here. Must be idempotent
  // per epoch: a run resumed mid-epoch calls it again after load_state().
  virtual void begin_epoch(const EpochInfo& info) {}
  // Called once after an epoch's last step, before its evaluation and checkpoint (pruning).
  virtual void end_epoch(const EpochInfo& info) {}
  // One search iteration: architecture and weight updates in the method's order.
  virtual StepResult step(WeightTrainer& weights, const StepBatches& batches, const EpochInfo& info) = 0;
  // What the method needs from the search loop (see StrategyNeeds).
  virtual StrategyNeeds needs() const { return {}; }
  // Called once after the last epoch with a scorer: the mean D_val loss of the trained
  // supernet under a mix (random search with weight sharing picks its architecture here).
  virtual void finish(const std::function<double(const supernet::ArchMix&)>& val_loss) {}
  // Deterministic mix used to evaluate the supernet (no sampling noise).
  virtual supernet::ArchMix inference_mix() const = 0;
  // The genotype the method derives from its current state.
  virtual genotype::Genotype derive() const = 0;
  // Architecture tensors by name (e.g. "alpha_normal" [E, O]) for logs and checkpoints.
  virtual std::vector<NamedTensor> arch_tensors() const = 0;
  // Everything a resumed run needs to continue bit-identically: parameters, optimizer
  // moments, statistics, masks, schedule scalars (0-d tensors), by unique name.
  virtual std::vector<NamedTensor> state() = 0;
  // Restores what state() returned (see strategy_state.h for checked lookups).
  virtual void load_state(const std::vector<NamedTensor>& state) = 0;
};

}  // namespace dnas::search
