#pragma once
// The evaluation (retrain) networks of docs/methods.md 1.8 built from a genotype: NetworkCIFAR
// (3x3 stem) and NetworkImageNet (two stride-2 stems), L cells with reductions at L/3 and
// 2L/3, optional auxiliary head on cell floor(2L/3), drop-path. Module names follow the
// reference DARTS `model.py`, so state dicts line up with PyTorch checkpoints.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include "dnas/eval/aux_head.h"
#include "dnas/eval/eval_cell.h"
#include "dnas/genotype/genotype.h"
#include "dnas/ops/precision.h"

namespace dnas::eval {

struct EvalNetworkConfig {
  int64_t in_channels = 3;  // 3 for CIFAR/ImageNet, 1 for (Fashion-)MNIST
  int64_t classes = 10;
  int64_t channels = 36;        // C of the first cells
  int64_t layers = 20;          // L
  bool auxiliary = true;        // build the auxiliary head
  std::string stem = "cifar";   // cifar | imagenet
  int64_t stem_multiplier = 3;  // cifar stem width = multiplier * C
  bool channels_last = true;    // activations and conv weights in NHWC (faster on CPU; same results)
  ops::Precision precision = ops::Precision::Fp32;  // activations (forward under autocast unless Fp32)
};

struct EvalOutput {
  torch::Tensor logits;      // [N, classes]
  torch::Tensor aux_logits;  // [N, classes] in training mode with an aux head, else undefined
};

class EvalNetworkImpl : public torch::nn::Module {
 public:
  EvalNetworkImpl(const genotype::Genotype& genotype, const EvalNetworkConfig& config);

  // x [N, in_channels, H, W]; the logits are float32 in every precision.
  EvalOutput forward(const torch::Tensor& x);
  // Drop-path rate used by forward in training mode (0 = off).
  void set_drop_path_prob(double p) { drop_path_prob_ = p; }
  double drop_path_prob() const { return drop_path_prob_; }

  const EvalNetworkConfig& config() const { return config_; }
  int64_t aux_cell() const { return 2 * config_.layers / 3; }  // the aux head reads this cell
  // Weights, with or without the auxiliary head (papers report without).
  int64_t parameter_count(bool with_aux) const;

 private:
  EvalNetworkConfig config_;
  double drop_path_prob_ = 0.0;
  torch::nn::Sequential stem{nullptr}, stem0{nullptr}, stem1{nullptr};
  std::vector<EvalCell> cells_;
  torch::nn::ModuleList cells_list_{nullptr};  // "cells"
  AuxHead auxiliary_head{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(EvalNetwork);

// Checks the settings; throws dnas::Error naming `where` (e.g. the config file).
void validate(const EvalNetworkConfig& config, const std::string& where);

}  // namespace dnas::eval
