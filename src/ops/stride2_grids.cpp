#include "dnas/ops/stride2_grids.h"

#include <torch/torch.h>

namespace dnas::ops {
namespace {

using torch::indexing::None;
using torch::indexing::Slice;

torch::Tensor grid(const torch::Tensor& x, int64_t offset) {
  return x.index({Slice(), Slice(), Slice(offset, None, 2), Slice(offset, None, 2)});
}

class Stride2Grids : public torch::autograd::Function<Stride2Grids> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                                bool relu) {
    const auto format = x.suggest_memory_format();
    auto even = grid(x, 0).contiguous(format);  // [N, C, ceil(H/2), ceil(W/2)]
    auto odd = grid(x, 1);                      // [N, C, floor(H/2), floor(W/2)]
    odd =
        torch::constant_pad_nd(odd, {0, even.size(3) - odd.size(3), 0, even.size(2) - odd.size(2)}).contiguous(format);
    if (relu) {
      even.relu_();
      odd.relu_();
    }
    ctx->save_for_backward({even, odd});
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["sizes"] = x.sizes().vec();
    ctx->saved_data["channels_last"] = format == torch::MemoryFormat::ChannelsLast;
    return {even, odd};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const bool relu = ctx->saved_data["relu"].toBool();
    const auto format =
        ctx->saved_data["channels_last"].toBool() ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    auto grad = torch::empty(sizes, saved[0].options().memory_format(format)).zero_();  // [N, C, H, W]
    for (int k = 0; k < 2; ++k) {
      if (!grads[static_cast<size_t>(k)].defined()) continue;
      auto g = grads[static_cast<size_t>(k)];
      if (relu) g = g * saved[static_cast<size_t>(k)].gt(0);  // ReLU(x) > 0 exactly where x > 0
      auto dst = grid(grad, k);
      dst.copy_(g.index({Slice(), Slice(), Slice(0, dst.size(2)), Slice(0, dst.size(3))}));
    }
    return {grad, torch::Tensor()};
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> stride2_grids(const torch::Tensor& x, bool relu) {
  auto out = Stride2Grids::apply(x, relu);
  return {out[0], out[1]};
}

}  // namespace dnas::ops
