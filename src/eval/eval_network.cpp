#include "dnas/eval/eval_network.h"

#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/ops/batch_norm.h"
#include "dnas/ops/memory_layout.h"
#include "dnas/supernet/supernet.h"

namespace dnas::eval {
namespace {

torch::nn::Conv2d conv3x3(int64_t c_in, int64_t c_out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(c_in, c_out, 3).stride(stride).padding(1).bias(false));
}

}  // namespace

void validate(const EvalNetworkConfig& c, const std::string& where) {
  if (c.layers < 3)
    fail("eval network needs at least 3 cells, got " + std::to_string(c.layers), where + ": model.layers",
         "reductions sit at L/3 and 2L/3");
  if (c.channels < 2 || c.channels % 2)
    fail("eval network channels must be even and >= 2, got " + std::to_string(c.channels), where + ": model.channels",
         "e.g. 16 or 36");
  if (c.classes < 2 || c.in_channels < 1) fail("bad classes or input channels", where, "check the dataset");
  if (c.stem != "cifar" && c.stem != "imagenet")
    fail("unknown stem '" + c.stem + "'", where + ": model.stem", "cifar | imagenet");
  if (c.stem == "imagenet" && c.channels % 4)
    fail("the imagenet stem needs channels divisible by 4", where + ": model.channels", "e.g. 48");
}

EvalNetworkImpl::EvalNetworkImpl(const genotype::Genotype& genotype, const EvalNetworkConfig& config)
    : config_(config) {
  validate(config_, "eval network");
  const auto& c = config_;
  int64_t c_pp, c_p, c_cur = c.channels;
  bool reduction_prev;
  if (c.stem == "cifar") {
    const int64_t c_stem = c.stem_multiplier * c.channels;
    stem = register_module("stem",
                           torch::nn::Sequential(conv3x3(c.in_channels, c_stem, 1), torch::nn::BatchNorm2d(c_stem)));
    c_pp = c_p = c_stem;
    reduction_prev = false;
  } else {
    stem0 = register_module(
        "stem0", torch::nn::Sequential(conv3x3(c.in_channels, c.channels / 2, 2),
                                       torch::nn::BatchNorm2d(c.channels / 2), torch::nn::ReLU(),
                                       conv3x3(c.channels / 2, c.channels, 2), torch::nn::BatchNorm2d(c.channels)));
    stem1 = register_module("stem1", torch::nn::Sequential(torch::nn::ReLU(), conv3x3(c.channels, c.channels, 2),
                                                           torch::nn::BatchNorm2d(c.channels)));
    c_pp = c_p = c.channels;
    reduction_prev = true;
  }
  cells_list_ = register_module("cells", torch::nn::ModuleList());
  int64_t c_aux = 0;
  for (int64_t i = 0; i < c.layers; ++i) {
    const bool reduction = supernet::is_reduction_cell(i, c.layers);
    if (reduction) c_cur *= 2;
    const auto& cell = reduction ? genotype.reduce : genotype.normal;
    cells_.emplace_back(cell, c_pp, c_p, c_cur, reduction, reduction_prev);
    cells_list_->push_back(cells_.back());
    reduction_prev = reduction;
    c_pp = c_p;
    c_p = cells_.back()->multiplier() * c_cur;
    if (i == aux_cell()) c_aux = c_p;
  }
  if (c.auxiliary) auxiliary_head = register_module("auxiliary_head", AuxHead(c_aux, c.classes, c.stem == "imagenet"));
  classifier = register_module("classifier", torch::nn::Linear(c_p, c.classes));
  if (c.channels_last) ops::weights_to_channels_last(*this);
}

EvalOutput EvalNetworkImpl::forward(const torch::Tensor& x) {
  ops::AutocastScope autocast(config_.precision, x.device());
  torch::Tensor s0, s1;
  const auto input = config_.channels_last ? ops::to_channels_last(x) : x;
  if (stem) {
    s0 = s1 = ops::forward_sequential(stem, input);  // [N, 3C, H, W]
  } else {
    s0 = ops::forward_sequential(stem0, input);  // [N, C, H/4, W/4]
    s1 = ops::forward_sequential(stem1, s0);     // [N, C, H/8, W/8]
  }
  const double drop = is_training() ? drop_path_prob_ : 0.0;
  EvalOutput out;
  // Every cell input is used through a ReLU (by both cells it feeds, and by the aux head):
  // each is applied once. The last cell's raw output goes to the classifier.
  auto r0 = torch::relu(s0), r1 = stem ? r0 : torch::relu(s1);
  for (size_t i = 0; i < cells_.size(); ++i) {
    s1 = cells_[i]->forward_activated(r0, r1, drop);
    r0 = r1;
    const bool aux = static_cast<int64_t>(i) == aux_cell() && auxiliary_head && is_training();
    if (i + 1 < cells_.size() || aux) r1 = torch::relu(s1);
    if (aux) out.aux_logits = auxiliary_head->forward_activated(r1);
  }
  out.logits = classifier(torch::adaptive_avg_pool2d(s1, {1, 1}).flatten(1));  // [N, classes]
  if (config_.precision != ops::Precision::Fp32) {  // float32 logits (float64 ones stay float64)
    out.logits = out.logits.to(torch::kFloat32);
    if (out.aux_logits.defined()) out.aux_logits = out.aux_logits.to(torch::kFloat32);
  }
  return out;
}

int64_t EvalNetworkImpl::parameter_count(bool with_aux) const {
  int64_t total = supernet::count_parameters(*this);
  if (!with_aux && auxiliary_head) total -= supernet::count_parameters(*auxiliary_head);
  return total;
}

}  // namespace dnas::eval
