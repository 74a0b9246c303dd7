#pragma once
// The search network of docs/methods.md 1.3: stem, L search cells (reductions at L/3 and 2L/3),
// global average pool and a linear classifier. Architecture parameters are NOT part of it:
// search methods own them and pass an ArchMix to every forward.
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include "dnas/ops/precision.h"
#include "dnas/supernet/cell_mix.h"
#include "dnas/supernet/search_cell.h"

namespace dnas::supernet {

struct SupernetConfig {
  int64_t in_channels = 3;  // 3 for CIFAR, 1 for (Fashion-)MNIST
  int64_t channels = 16;    // C: channels of the first cells
  int64_t layers = 8;       // L: number of cells
  int64_t steps = 4;        // n: intermediate nodes per cell
  int64_t classes = 10;
  int64_t stem_multiplier = 3;                      // stem output = stem_multiplier * C
  std::vector<std::string> normal_ops, reduce_ops;  // candidate ops per cell type
  torch::Device device = torch::kCPU;               // where the weights and the architecture parameters live
  ops::Precision precision = ops::Precision::Fp32;  // activations (forward under autocast unless Fp32)
  bool channels_last = true;                        // activations and conv weights in NHWC (same results)
};

// True when cell i of an L-cell network is a reduction cell (i in {L/3, 2L/3}).
bool is_reduction_cell(int64_t i, int64_t layers);

class SupernetImpl : public torch::nn::Module {
 public:
  explicit SupernetImpl(SupernetConfig config);

  // x [N, in_channels, H, W] -> logits [N, classes], float32 in every precision.
  torch::Tensor forward(const torch::Tensor& x, const ArchMix& mix);
  // Outputs of every cell, [N, steps*C_i, H_i, W_i] each (for shape checks and analysis).
  std::vector<torch::Tensor> cell_outputs(const torch::Tensor& x, const ArchMix& mix);

  const SupernetConfig& config() const { return config_; }
  int64_t num_edges() const;
  int64_t evaluations() const;  // op evaluations so far over all cells

 private:
  SupernetConfig config_;
  torch::nn::Sequential stem{nullptr};
  std::vector<SearchCell> cells_;
  torch::nn::ModuleList cells_list_{nullptr};  // "cells"
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(Supernet);

// Number of weight parameters (elements) of a module, e.g. the supernet (excludes arch params).
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace dnas::supernet
