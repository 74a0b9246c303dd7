#pragma once
// Shared tiny shapes for the search tests: 3 cells, C=4, 2 steps, 8x8 RGB batches.
#include <torch/torch.h>

#include <string>

#include "dnas/ops/op_names.h"
#include "dnas/search/weight_trainer.h"
#include "dnas/supernet/supernet.h"

namespace dnas::testing {

inline supernet::SupernetConfig tiny_supernet_config(const std::string& op_set = "darts8") {
  supernet::SupernetConfig cfg;
  cfg.channels = 4;
  cfg.layers = 3;
  cfg.steps = 2;
  cfg.normal_ops = ops::op_set(op_set, ops::CellType::Normal);
  cfg.reduce_ops = ops::op_set(op_set, ops::CellType::Reduce);
  return cfg;
}

// Random images [n, 3, 8, 8] and labels [n] in [0, 10).
inline search::TensorBatch random_batch(int64_t n, torch::Dtype dtype = torch::kFloat32) {
  return {torch::randn({n, 3, 8, 8}, torch::TensorOptions().dtype(dtype)),
          torch::randint(0, 10, {n}, torch::kLong)};
}

}  // namespace dnas::testing
