#include "dnas/supernet/mixed_op.h"

#include <torch/torch.h>

#include <optional>

#include "dnas/ops/op_factory.h"

namespace dnas::supernet {

CellMix soft_mix(torch::Tensor weights) { return CellMix{std::move(weights), {}, {}}; }

std::vector<OpMode> argmax_modes(const torch::Tensor& weights) {
  auto picked = weights.detach().argmax(/*dim=*/1).to(torch::kCPU);  // [E]
  const int64_t E = weights.size(0), O = weights.size(1);
  std::vector<OpMode> modes(E * O, OpMode::Off);
  auto acc = picked.accessor<int64_t, 1>();
  for (int64_t e = 0; e < E; ++e) modes[e * O + acc[e]] = OpMode::On;
  return modes;
}

MixedOpImpl::MixedOpImpl(const std::vector<std::string>& op_names, int64_t channels, int64_t stride) {
  ops_list_ = register_module("_ops", torch::nn::ModuleList());
  for (const auto& name : op_names) {
    auto op = ops::make_op(name, channels, stride, ops::OpOptions{/*affine=*/false, /*pool_bn=*/true});
    ops_list_->push_back(op);
    ops_.push_back(op);
    is_none_.push_back(name == "none");
    is_identity_.push_back(name == "skip_connect" && stride == 1);
  }
}

torch::Tensor MixedOpImpl::forward(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                                   const OpMode* modes, double skip_dropout) {
  torch::Tensor out, relu_x;
  for (size_t o = 0; o < ops_.size(); ++o) {
    const OpMode mode = modes ? modes[o] : OpMode::On;
    if (mode == OpMode::Off || is_none_[o]) continue;  // `none` contributes exactly zero
    auto& op = ops_[o];
    // The shared ReLU is built outside any no-grad scope so On ops can backprop through it.
    if (op->starts_with_relu() && !relu_x.defined()) relu_x = torch::relu(x);
    torch::Tensor y;
    {
      std::optional<torch::NoGradGuard> no_grad;
      if (mode == OpMode::NoGrad) no_grad.emplace();
      y = op->starts_with_relu() ? op->forward_activated(relu_x) : op->forward(x);
    }
    if (skip_dropout > 0 && is_identity_[o] && is_training()) y = torch::dropout(y, skip_dropout, /*train=*/true);
    ++evaluations_;
    // One fused multiply-add per op into a buffer this edge owns (no temporaries; autograd
    // saves y only when the weight needs a gradient).
    if (out.defined())
      out.addcmul_(y, weights[o]);
    else
      out = y * weights[o];
  }
  return out;
}

}  // namespace dnas::supernet
