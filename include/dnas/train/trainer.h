#pragma once
// The retrain driver (docs/methods.md 1.8): a genotype's evaluation network trained from scratch,
// checkpointed every epoch and on stop requests, tested once at the end. The test set never
// drives a decision: the final epoch is reported, or the best validation epoch when
// train.select = best_val and a validation split is configured.
#include <optional>
#include <string>
#include <vector>

#include "dnas/comm/process_group.h"
#include "dnas/eval/network_cost.h"
#include "dnas/genotype/genotype.h"
#include "dnas/train/genotype_source.h"
#include "dnas/train/train_config.h"

namespace dnas::train {

struct TrainEpoch {
  int64_t epoch = 0;
  double lr = 0.0, drop_path = 0.0;
  double train_loss = 0.0, train_acc = 0.0;
  double val_loss = 0.0, val_acc = 0.0;  // 0 without a validation split
  double seconds = 0.0;
  double data_wait = 0.0;  // seconds the steps waited for the image loader (data.stream; 0 otherwise)
};

struct TrainResult {
  genotype::Genotype genotype;
  std::string genotype_origin;
  eval::NetworkCost cost;  // at the dataset's input size
  int64_t channels = 0;    // C of the network (model.channels, or the one model.target_params chose)
  std::vector<TrainEpoch> epochs;
  int64_t selected_epoch = 0;  // the epoch whose weights were tested (0-based)
  double test_loss = 0.0, test_acc = 0.0;
  double test_top5_acc = 0.0;  // a label among the 5 largest logits (all of them with <= 5 classes)
  double seconds = 0.0;        // wall time of all invocations (resumes included)
};

// Runs (or resumes, with config.run.resume) a training; writes metrics.csv, result.txt and
// checkpoint.h5 into run.out_dir. Throws core::Interrupted after checkpointing when a stop was
// requested (SIGTERM/SIGUSR1 or run.stop_after_steps). With a group of several ranks, each rank
// trains on its shard of every batch with averaged gradients and only the leader writes.
// `genotype`: the cell to train (a study passes the one its search returned); none: the cell that
// model.genotype names (a published name, Genotype(...) text, a file or a search directory).
TrainResult run_training(const TrainConfig& config, std::shared_ptr<comm::ProcessGroup> group = comm::solo_group(),
                         std::optional<ResolvedGenotype> genotype = std::nullopt);

// Markdown table of the per-epoch metrics and the final result.
std::string format_train_table(const TrainResult& result);

}  // namespace dnas::train
