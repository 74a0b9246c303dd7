#pragma once
// The batches of a retrain (private to the train module): held in memory (batch streams with the
// CIFAR-style augmentation) or, with data.stream, decoded from the image files every epoch by the
// threaded image loader with the papers' transforms.
#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "dnas/comm/process_group.h"
#include "dnas/data/augment.h"
#include "dnas/data/batch_stream.h"
#include "dnas/data/dataset.h"
#include "dnas/data/folder_dataset.h"
#include "dnas/data/image_loader.h"
#include "dnas/eval/eval_network.h"
#include "dnas/loop/epoch_loop.h"
#include "dnas/train/train_config.h"

namespace dnas::train {

// Evaluation statistics summed over the group, with the top-5 count.
struct EvalStats {
  loop::BatchStats top1;
  int64_t correct_top5 = 0;  // a label among the 5 largest logits (among all of them with <= 5 classes)
  double top5_accuracy() const;
};

class RetrainData {
 public:
  RetrainData(const TrainConfig& c, comm::ProcessGroup& group);

  const data::DatasetInfo& info() const { return info_; }
  bool streamed() const { return train_loader_ != nullptr; }
  bool has_val() const { return val_.has_value(); }
  int64_t train_images() const { return train_images_; }
  int64_t val_images() const { return val_images_; }
  int64_t test_images() const { return test_images_; }
  int64_t skipped_at_load() const { return skipped_at_load_; }  // corrupt files left out of an in-memory set

  // The epoch loop over the training batches (a streamed loop takes them through more_steps).
  loop::EpochLoop epoch_loop(const std::string& checkpoint_path);
  // Before an epoch's steps: a streamed epoch starts at `step` (a resumed run); in memory the loop seeks.
  void begin_epoch(int64_t epoch, int64_t step);
  // After an epoch's steps: a streamed loader starts preparing epoch + 1 (if any) while the epoch
  // end evaluates and checkpoints.
  void prepare_next_epoch(int64_t epoch);
  // A step's images (augmented, normalised) and labels on `device`.
  std::pair<torch::Tensor, torch::Tensor> train_inputs(const data::Batch& batch, torch::Device device);
  // Streamed: the seconds this epoch's steps waited for data, and the bad images skipped.
  double data_wait_seconds() const;
  int64_t skipped_this_epoch() const;

  EvalStats evaluate_test(eval::EvalNetwork& net);
  EvalStats evaluate_val(eval::EvalNetwork& net);  // needs has_val()

 private:
  void load_in_memory();
  void open_streams();
  EvalStats evaluate_in_memory(eval::EvalNetwork& net, data::BatchStream& stream);

  const TrainConfig& c_;
  comm::ProcessGroup& group_;
  data::DatasetInfo info_;
  int64_t train_images_ = 0, val_images_ = 0, test_images_ = 0, skipped_at_load_ = 0;
  // In memory.
  data::Dataset dataset_;
  std::optional<data::BatchStream> train_, val_, test_;
  data::AugmentOptions aug_;
  // Streamed.
  data::FolderSplits files_;
  std::unique_ptr<data::ImageLoader> train_loader_;
  data::ImageBatch pending_;  // the batch more_steps took for the next step
};

}  // namespace dnas::train
