#include "dnas/supernet/supernet.h"

#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/ops/memory_layout.h"

namespace dnas::supernet {

bool is_reduction_cell(int64_t i, int64_t layers) { return i == layers / 3 || i == 2 * layers / 3; }

SupernetImpl::SupernetImpl(SupernetConfig config) : config_(std::move(config)) {
  const auto& c = config_;
  if (c.layers < 1 || c.steps < 1 || c.channels < 2 || c.classes < 2 || c.in_channels < 1)
    fail("invalid supernet shape (layers " + std::to_string(c.layers) + ", steps " + std::to_string(c.steps) +
             ", channels " + std::to_string(c.channels) + ")",
         "supernet", "layers >= 1, steps >= 1, channels >= 2 (even), classes >= 2");
  if (c.normal_ops.empty() || c.reduce_ops.empty())
    fail("empty candidate op list", "supernet.op_set", "set supernet.op_set, e.g. darts8");
  const int64_t c_stem = c.stem_multiplier * c.channels;
  stem = register_module(
      "stem", torch::nn::Sequential(
                  torch::nn::Conv2d(torch::nn::Conv2dOptions(c.in_channels, c_stem, 3).padding(1).bias(false)),
                  torch::nn::BatchNorm2d(c_stem)));
  int64_t c_pp = c_stem, c_p = c_stem, c_cur = c.channels;
  bool reduction_prev = false;
  cells_list_ = register_module("cells", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.layers; ++i) {
    const bool reduction = is_reduction_cell(i, c.layers);
    if (reduction) c_cur *= 2;
    cells_.emplace_back(c.steps, c_pp, c_p, c_cur, reduction, reduction_prev, reduction ? c.reduce_ops : c.normal_ops);
    cells_list_->push_back(cells_.back());
    reduction_prev = reduction;
    c_pp = c_p;
    c_p = c.steps * c_cur;
  }
  classifier = register_module("classifier", torch::nn::Linear(c_p, c.classes));
  if (c.channels_last) ops::weights_to_channels_last(*this);
  to(c.device);  // initialised on the CPU first: the same weights for a seed on every device
}

std::vector<torch::Tensor> SupernetImpl::cell_outputs(const torch::Tensor& x, const ArchMix& mix) {
  auto s0 = stem->forward(config_.channels_last ? ops::to_channels_last(x) : x);  // [N, 3C, H, W]
  auto s1 = s0;
  std::vector<torch::Tensor> outputs;
  for (auto& cell : cells_) {
    outputs.push_back(cell->forward(s0, s1, cell->reduction() ? mix.reduce : mix.normal));
    s0 = s1;
    s1 = outputs.back();
  }
  return outputs;
}

torch::Tensor SupernetImpl::forward(const torch::Tensor& x, const ArchMix& mix) {
  ops::AutocastScope autocast(config_.precision, x.device());
  auto last = cell_outputs(x, mix).back();
  auto pooled = torch::adaptive_avg_pool2d(last, {1, 1}).flatten(1);  // [N, C_p]
  auto logits = classifier(pooled);                                   // [N, classes]
  return config_.precision == ops::Precision::Fp32 ? logits : logits.to(torch::kFloat32);
}

int64_t SupernetImpl::num_edges() const { return genotype::num_edges(config_.steps); }

int64_t SupernetImpl::evaluations() const {
  int64_t total = 0;
  for (const auto& cell : cells_) total += cell->evaluations();
  return total;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace dnas::supernet
