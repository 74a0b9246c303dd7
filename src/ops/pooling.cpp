#include "dnas/ops/pooling.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>

#include "dnas/ops/depthwise_conv.h"
#include "dnas/ops/pooling_nhwc.h"
#include "float32_bridge.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

bool direct_path(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  // NCHW planes only: libtorch's channels-last pooling kernels are already vectorised.
  return (stride == 1 || stride == 2) && kernel <= 15 && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
         x.suggest_memory_format() != torch::MemoryFormat::ChannelsLast && depthwise_mode() != DepthwiseMode::Torch;
}

#define DNAS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))

// out/arg [Ho, Wo] = max over the k x k windows at stride s of the -inf padded plane of width
// PW (P cells of padding); arg holds the window tap (kh*k + kw) of the first maximum, or of the
// last NaN (NaN propagates, as in torch). A window with no value above -inf keeps its first
// in-image tap, so arg never points into the padding.
DNAS_VECTOR_CLONES
void max_plane(const float* pin, float* out, uint8_t* arg, int64_t H, int64_t W, int64_t K, int64_t S, int64_t PW,
               int64_t P) {
  for (int64_t h = 0; h < H; ++h) {
    float* orow = out + h * W;
    uint8_t* arow = arg + h * W;
    const int64_t first_row = std::max<int64_t>(0, P - h * S);
    for (int64_t w = 0; w < W; ++w) {
      orow[w] = -std::numeric_limits<float>::infinity();
      arow[w] = static_cast<uint8_t>(first_row * K + std::max<int64_t>(0, P - w * S));
    }
    for (int64_t kh = 0; kh < K; ++kh)
      for (int64_t kw = 0; kw < K; ++kw) {
        const float* src = pin + (h * S + kh) * PW + kw;
        const uint8_t tap = static_cast<uint8_t>(kh * K + kw);
        for (int64_t w = 0; w < W; ++w) {
          const float v = src[w * S];
          const bool better = v > orow[w] || v != v;
          orow[w] = better ? v : orow[w];
          arow[w] = better ? tap : arow[w];
        }
      }
  }
}

class MaxPoolFunction : public torch::autograd::Function<MaxPoolFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input, int64_t kernel,
                               int64_t stride) {
    auto x = input.contiguous();  // [N, C, H, W]
    const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), P = (kernel - 1) / 2;
    const int64_t Ho = (H + 2 * P - kernel) / stride + 1, Wo = (W + 2 * P - kernel) / stride + 1;
    auto out = torch::empty({x.size(0), x.size(1), Ho, Wo}, x.options());  // [N, C, Ho, Wo]
    auto arg = torch::empty({x.size(0), x.size(1), Ho, Wo}, x.options().dtype(torch::kUInt8));
    const float* xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    uint8_t* ap = arg.data_ptr<uint8_t>();
    const int64_t PH = H + 2 * P, PW = W + 2 * P;
    at::parallel_for(0, NC, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> padded(PH * PW, -std::numeric_limits<float>::infinity());
      for (int64_t p = begin; p < end; ++p) {
        for (int64_t h = 0; h < H; ++h) std::copy_n(xp + p * H * W + h * W, W, padded.data() + (h + P) * PW + P);
        max_plane(padded.data(), op + p * Ho * Wo, ap + p * Ho * Wo, Ho, Wo, kernel, stride, PW, P);
      }
    });
    ctx->save_for_backward({arg});
    ctx->saved_data["kernel"] = kernel;
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["height"] = H;
    ctx->saved_data["width"] = W;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto arg = ctx->get_saved_variables()[0];  // [N, C, Ho, Wo] uint8
    const int64_t K = ctx->saved_data["kernel"].toInt(), S = ctx->saved_data["stride"].toInt(), P = (K - 1) / 2;
    const int64_t H = ctx->saved_data["height"].toInt(), W = ctx->saved_data["width"].toInt();
    auto g = grads[0].contiguous();  // [N, C, Ho, Wo]
    const int64_t NC = g.size(0) * g.size(1), Ho = g.size(2), Wo = g.size(3);
    auto grad_input = torch::zeros({g.size(0), g.size(1), H, W}, g.options());  // [N, C, H, W]
    const float* gp = g.data_ptr<float>();
    const uint8_t* ap = arg.data_ptr<uint8_t>();
    float* gi = grad_input.data_ptr<float>();
    at::parallel_for(0, NC, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const float* gplane = gp + p * Ho * Wo;
        const uint8_t* aplane = ap + p * Ho * Wo;
        float* iplane = gi + p * H * W;
        for (int64_t h = 0; h < Ho; ++h)
          for (int64_t w = 0; w < Wo; ++w) {
            const int64_t tap = aplane[h * Wo + w];
            iplane[(h * S + tap / K - P) * W + (w * S + tap % K - P)] += gplane[h * Wo + w];
          }
      }
    });
    return {grad_input, {}, {}};
  }
};

// 1 / (number of in-image cells of each window), [1, 1, OH, OW], cached per geometry.
torch::Tensor inverse_counts(int64_t H, int64_t W, int64_t K, int64_t S) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, torch::Tensor> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& t = cache[{H, W, K, S}];
  if (!t.defined()) {
    const int64_t P = (K - 1) / 2, OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    t = torch::empty({1, 1, OH, OW});
    auto a = t.accessor<float, 4>();
    auto inside = [&](int64_t o, int64_t n) { return std::min(n, o * S - P + K) - std::max<int64_t>(0, o * S - P); };
    for (int64_t h = 0; h < OH; ++h)
      for (int64_t w = 0; w < OW; ++w) a[0][0][h][w] = 1.f / static_cast<float>(inside(h, H) * inside(w, W));
  }
  return t;
}

}  // namespace

torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  if (nchw_cpu_bf16(x) && depthwise_mode() != DepthwiseMode::Torch)  // exact: a maximum is one of its inputs
    return through_float32(x, [&](const torch::Tensor& f) { return max_pool2d(f, kernel, stride); });
  if (depthwise_mode() != DepthwiseMode::Torch && pool_nhwc_supported(x, kernel))
    return max_pool2d_nhwc(x, kernel, stride);
  if (!direct_path(x, kernel, stride)) return torch::max_pool2d(x, kernel, stride, (kernel - 1) / 2);
  return MaxPoolFunction::apply(x, kernel, stride);
}

torch::Tensor avg_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  if (nchw_cpu_bf16(x) && depthwise_mode() != DepthwiseMode::Torch)
    return through_float32(x, [&](const torch::Tensor& f) { return avg_pool2d(f, kernel, stride); });
  // Window sums are a depthwise conv with a ones kernel; then divide by the in-image count.
  const auto ones = torch::ones({x.size(1), 1, kernel, kernel}, x.options().dtype(torch::kFloat32));
  const DepthwiseGeometry window{kernel, stride, (kernel - 1) / 2, 1};
  if (depthwise_mode() != DepthwiseMode::Torch && depthwise_nhwc_supported(x, ones, window))
    return depthwise_conv2d_nhwc(x, ones, window, /*relu_input=*/false) *
           inverse_counts(x.size(2), x.size(3), kernel, stride).to(x.scalar_type());
  if (stride != 1 || !direct_path(x, kernel, stride))
    return torch::avg_pool2d(x, kernel, stride, (kernel - 1) / 2, /*ceil_mode=*/false,
                             /*count_include_pad=*/false);
  return depthwise_conv2d(x, ones, window) * inverse_counts(x.size(2), x.size(3), kernel, stride);
}

}  // namespace dnas::ops
