#include "dnas/ops/pooling.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <limits>
#include <map>
#include <mutex>
#include <tuple>

#include "dnas/ops/depthwise_conv.h"

namespace dnas::ops {
namespace {

bool direct_path(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  return stride == 1 && kernel <= 15 && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
         depthwise_mode() != DepthwiseMode::Torch;
}

#define DNAS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))

// out/arg [H, W] = max over the k x k window of the -inf padded plane [H+k-1, W+k-1];
// arg holds the window tap (kh*k + kw) of the first maximum.
DNAS_VECTOR_CLONES
void max_plane(const float* pin, float* out, uint8_t* arg, int64_t H, int64_t W, int64_t K) {
  const int64_t PW = W + K - 1;
  for (int64_t h = 0; h < H; ++h) {
    float* orow = out + h * W;
    uint8_t* arow = arg + h * W;
    for (int64_t w = 0; w < W; ++w) {
      orow[w] = -std::numeric_limits<float>::infinity();
      arow[w] = 0;
    }
    for (int64_t kh = 0; kh < K; ++kh)
      for (int64_t kw = 0; kw < K; ++kw) {
        const float* src = pin + (h + kh) * PW + kw;
        const uint8_t tap = static_cast<uint8_t>(kh * K + kw);
        for (int64_t w = 0; w < W; ++w) {
          const bool better = src[w] > orow[w];
          orow[w] = better ? src[w] : orow[w];
          arow[w] = better ? tap : arow[w];
        }
      }
  }
}

class MaxPoolFunction : public torch::autograd::Function<MaxPoolFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               int64_t kernel) {
    auto x = input.contiguous();  // [N, C, H, W]
    const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), P = (kernel - 1) / 2;
    auto out = torch::empty_like(x);                                  // [N, C, H, W]
    auto arg = torch::empty(x.sizes(), x.options().dtype(torch::kUInt8));  // [N, C, H, W]
    const float* xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    uint8_t* ap = arg.data_ptr<uint8_t>();
    const int64_t PH = H + 2 * P, PW = W + 2 * P;
    at::parallel_for(0, NC, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> padded(PH * PW, -std::numeric_limits<float>::infinity());
      for (int64_t p = begin; p < end; ++p) {
        for (int64_t h = 0; h < H; ++h)
          std::copy_n(xp + p * H * W + h * W, W, padded.data() + (h + P) * PW + P);
        max_plane(padded.data(), op + p * H * W, ap + p * H * W, H, W, kernel);
      }
    });
    ctx->save_for_backward({arg});
    ctx->saved_data["kernel"] = kernel;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto arg = ctx->get_saved_variables()[0];  // [N, C, H, W] uint8
    const int64_t K = ctx->saved_data["kernel"].toInt(), P = (K - 1) / 2;
    auto g = grads[0].contiguous();  // [N, C, H, W]
    const int64_t NC = g.size(0) * g.size(1), H = g.size(2), W = g.size(3);
    auto grad_input = torch::zeros_like(g);
    const float* gp = g.data_ptr<float>();
    const uint8_t* ap = arg.data_ptr<uint8_t>();
    float* gi = grad_input.data_ptr<float>();
    at::parallel_for(0, NC, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const float* gplane = gp + p * H * W;
        const uint8_t* aplane = ap + p * H * W;
        float* iplane = gi + p * H * W;
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) {
            const int64_t tap = aplane[h * W + w];
            iplane[(h + tap / K - P) * W + (w + tap % K - P)] += gplane[h * W + w];
          }
      }
    });
    return {grad_input, {}};
  }
};

// 1 / (number of in-image cells of each window), [1, 1, H, W], cached per shape.
torch::Tensor inverse_counts(int64_t H, int64_t W, int64_t K) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, int64_t>, torch::Tensor> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& t = cache[{H, W, K}];
  if (!t.defined()) {
    const int64_t P = (K - 1) / 2;
    t = torch::empty({1, 1, H, W});
    auto a = t.accessor<float, 4>();
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        const int64_t rows = std::min(H, h + P + 1) - std::max<int64_t>(0, h - P);
        const int64_t cols = std::min(W, w + P + 1) - std::max<int64_t>(0, w - P);
        a[0][0][h][w] = 1.f / static_cast<float>(rows * cols);
      }
  }
  return t;
}

}  // namespace

torch::Tensor max_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  if (!direct_path(x, kernel, stride)) return torch::max_pool2d(x, kernel, stride, (kernel - 1) / 2);
  return MaxPoolFunction::apply(x, kernel);
}

torch::Tensor avg_pool2d(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  if (!direct_path(x, kernel, stride))
    return torch::avg_pool2d(x, kernel, stride, (kernel - 1) / 2, /*ceil_mode=*/false,
                             /*count_include_pad=*/false);
  // Window sums are a depthwise conv with a ones kernel; then divide by the in-image count.
  auto ones = torch::ones({x.size(1), 1, kernel, kernel}, x.options());
  auto sums = depthwise_conv2d(x, ones, DepthwiseGeometry{kernel, 1, (kernel - 1) / 2, 1});
  return sums * inverse_counts(x.size(2), x.size(3), kernel);
}

}  // namespace dnas::ops
