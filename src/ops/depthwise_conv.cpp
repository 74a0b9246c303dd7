#include "dnas/ops/depthwise_conv.h"

#include <torch/torch.h>

#include <atomic>
#include <cmath>

#include "float32_bridge.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

std::atomic<DepthwiseMode> g_mode{DepthwiseMode::Auto};

// The kernels work on zero-padded planes so inner loops need no bounds checks. Stride-1
// loops run on 8-float vectors (GCC vector extensions) with accumulators held in registers
// across all taps; target_clones builds an AVX2 variant picked at load time.
#define DNAS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))

#pragma GCC diagnostic ignored "-Wpsabi"  // Vec8 never crosses a non-inlined call boundary
typedef float Vec8 __attribute__((vector_size(32)));
constexpr int64_t kLanes = 8;

__attribute__((always_inline)) inline Vec8 load8(const float* p) {
  Vec8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store8(float* p, Vec8 v) { __builtin_memcpy(p, &v, sizeof v); }
__attribute__((always_inline)) inline float sum8(Vec8 v) {
  float s = 0.f;
  for (int i = 0; i < kLanes; ++i) s += v[i];
  return s;
}

// Copies plane [H, W] into the centre of padded [H+2p, W+2p] (borders already zero).
void pad_plane(const float* in, float* padded, int64_t H, int64_t W, int64_t p) {
  const int64_t PW = W + 2 * p;
  for (int64_t h = 0; h < H; ++h) std::copy(in + h * W, in + (h + 1) * W, padded + (h + p) * PW + p);
}

// out [OH, OW] = sum_k w[k] * shifted padded input (row pitch PW), one plane. Stride 1 with
// compile-time kernel and dilation (kK, kD > 0) lets the tap loops unroll fully.
template <int64_t kK, int64_t kD>
__attribute__((always_inline)) inline void forward_plane_impl(const float* pin, const float* w, float* out, int64_t PW,
                                                              int64_t OH, int64_t OW, int64_t K, int64_t s, int64_t d) {
  if constexpr (kK > 0) {
    K = kK;
    d = kD;
  }
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* orow = out + oh * OW;
    int64_t ow0 = 0;
    if (s == 1) {
      for (; ow0 + kLanes <= OW; ow0 += kLanes) {
        Vec8 acc = {};
        for (int64_t kh = 0; kh < K; ++kh) {
          const float* prow = pin + (oh + kh * d) * PW + ow0;
          for (int64_t kw = 0; kw < K; ++kw) acc += w[kh * K + kw] * load8(prow + kw * d);
        }
        store8(orow + ow0, acc);
      }
    }
    for (int64_t ow = ow0; ow < OW; ++ow) {
      float acc = 0.f;
      for (int64_t kh = 0; kh < K; ++kh) {
        const float* prow = pin + (oh * s + kh * d) * PW + ow * s;
        for (int64_t kw = 0; kw < K; ++kw) acc += w[kh * K + kw] * prow[kw * d];
      }
      orow[ow] = acc;
    }
  }
}

DNAS_VECTOR_CLONES
void forward_plane(const float* pin, const float* w, float* out, int64_t PW, int64_t OH, int64_t OW, int64_t K,
                   int64_t s, int64_t d) {
  if (s == 1 && K == 3 && d == 1) return forward_plane_impl<3, 1>(pin, w, out, PW, OH, OW, K, s, d);
  if (s == 1 && K == 3 && d == 2) return forward_plane_impl<3, 2>(pin, w, out, PW, OH, OW, K, s, d);
  if (s == 1 && K == 5 && d == 1) return forward_plane_impl<5, 1>(pin, w, out, PW, OH, OW, K, s, d);
  if (s == 1 && K == 5 && d == 2) return forward_plane_impl<5, 2>(pin, w, out, PW, OH, OW, K, s, d);
  forward_plane_impl<0, 0>(pin, w, out, PW, OH, OW, K, s, d);
}

// Padded grad_in [H+2p, W+2p] += transpose of forward_plane applied to grad_out [OH, OW]
// (used for stride > 1; stride 1 runs forward_plane on the padded gradient instead).
void grad_input_strided(const float* gout, const float* w, float* pgin, int64_t PW, int64_t OH, int64_t OW, int64_t K,
                        int64_t s, int64_t d) {
  for (int64_t oh = 0; oh < OH; ++oh)
    for (int64_t kh = 0; kh < K; ++kh) {
      float* prow = pgin + (oh * s + kh * d) * PW;
      for (int64_t kw = 0; kw < K; ++kw) {
        const float wv = w[kh * K + kw];
        for (int64_t ow = 0; ow < OW; ++ow) prow[ow * s + kw * d] += wv * gout[oh * OW + ow];
      }
    }
}

// gw[k] += sum over one plane of grad_out [OH, OW] * shifted padded input.
DNAS_VECTOR_CLONES
void grad_weight_plane(const float* gout, const float* pin, double* gw, int64_t PW, int64_t OH, int64_t OW, int64_t K,
                       int64_t s, int64_t d) {
  constexpr int64_t kMaxK = 8;
  const int64_t vec_end = s == 1 ? OW / kLanes * kLanes : 0;
  for (int64_t kh = 0; kh < K; ++kh) {
    Vec8 acc[kMaxK] = {};
    float tail[kMaxK] = {};
    for (int64_t oh = 0; oh < OH; ++oh) {
      const float* grow = gout + oh * OW;
      const float* prow = pin + (oh * s + kh * d) * PW;
      for (int64_t ow0 = 0; ow0 < vec_end; ow0 += kLanes) {
        const Vec8 g = load8(grow + ow0);
        for (int64_t kw = 0; kw < K; ++kw) acc[kw] += g * load8(prow + ow0 + kw * d);
      }
      for (int64_t ow = vec_end; ow < OW; ++ow)
        for (int64_t kw = 0; kw < K; ++kw) tail[kw] += grow[ow] * prow[ow * s + kw * d];
    }
    for (int64_t kw = 0; kw < K; ++kw) gw[kh * K + kw] += sum8(acc[kw]) + tail[kw];
  }
}

class DepthwiseFunction : public torch::autograd::Function<DepthwiseFunction> {
 public:
  // onednn_forward: run the forward through oneDNN (faster there) and only the backward
  // through the direct kernels.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, int64_t kernel, int64_t stride, int64_t padding,
                               int64_t dilation, bool onednn_forward) {
    const DepthwiseGeometry g{kernel, stride, padding, dilation};
    ctx->saved_data["geom"] = std::vector<int64_t>{kernel, stride, padding, dilation};
    if (onednn_forward) {
      ctx->save_for_backward({input, weight});
      return torch::conv2d(input, weight, {}, stride, padding, dilation, /*groups=*/input.size(1));
    }
    auto x = input.contiguous();   // [N, C, H, W]
    auto w = weight.contiguous();  // [C, 1, k, k]
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t OH = g.out_size(H), OW = g.out_size(W);
    auto out = torch::empty({N, C, OH, OW}, x.options());  // [N, C, OH, OW]
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    float* op = out.data_ptr<float>();
    const int64_t P = g.padding, PH = H + 2 * P, PW = W + 2 * P;
    at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> padded(PH * PW, 0.f);
      for (int64_t p = begin; p < end; ++p) {
        pad_plane(xp + p * H * W, padded.data(), H, W, P);
        forward_plane(padded.data(), wp + (p % C) * kernel * kernel, op + p * OH * OW, PW, OH, OW, kernel, stride,
                      dilation);
      }
    });
    ctx->save_for_backward({x, w});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto x = saved[0].contiguous();  // [N, C, H, W]
    const auto w = saved[1].contiguous();  // [C, 1, k, k]
    const auto geo = ctx->saved_data["geom"].toIntVector();
    const DepthwiseGeometry g{geo[0], geo[1], geo[2], geo[3]};
    auto gout = grads[0].contiguous();  // [N, C, OH, OW]
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t OH = gout.size(2), OW = gout.size(3), K2 = g.kernel * g.kernel;
    const float* gp = gout.data_ptr<float>();
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    torch::Tensor grad_input, grad_weight;
    const int64_t P = g.padding, PH = H + 2 * P, PW = W + 2 * P;
    const int64_t K = g.kernel, S = g.stride, D = g.dilation;
    if (ctx->needs_input_grad(0)) {
      grad_input = torch::empty_like(x);
      float* gi = grad_input.data_ptr<float>();
      // Stride 1: grad_in = correlation of the padded gradient with the flipped kernel.
      std::vector<float> flipped(C * K2);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t k = 0; k < K2; ++k) flipped[c * K2 + k] = wp[c * K2 + K2 - 1 - k];
      at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
        const int64_t Q = (K - 1) * D - P;  // padding of the gradient for the stride-1 path
        std::vector<float> padded(S == 1 ? (OH + 2 * Q) * (OW + 2 * Q) : PH * PW, 0.f);
        for (int64_t p = begin; p < end; ++p) {
          float* dst = gi + p * H * W;
          if (S == 1) {
            pad_plane(gp + p * OH * OW, padded.data(), OH, OW, Q);
            forward_plane(padded.data(), flipped.data() + (p % C) * K2, dst, OW + 2 * Q, H, W, K, 1, D);
          } else {
            std::fill(padded.begin(), padded.end(), 0.f);
            grad_input_strided(gp + p * OH * OW, wp + (p % C) * K2, padded.data(), PW, OH, OW, K, S, D);
            for (int64_t h = 0; h < H; ++h) std::copy_n(padded.data() + (h + P) * PW + P, W, dst + h * W);
          }
        }
      });
    }
    if (ctx->needs_input_grad(1)) {
      auto acc = torch::zeros({C, K2}, x.options().dtype(torch::kFloat64));  // [C, k*k]
      double* ap = acc.data_ptr<double>();
      at::parallel_for(0, C, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> padded(PH * PW, 0.f);
        for (int64_t c = begin; c < end; ++c)
          for (int64_t n = 0; n < N; ++n) {
            const int64_t p = n * C + c;
            pad_plane(xp + p * H * W, padded.data(), H, W, P);
            grad_weight_plane(gp + p * OH * OW, padded.data(), ap + c * K2, PW, OH, OW, K, S, D);
          }
      });
      grad_weight = acc.to(torch::kFloat32).view_as(w);
    }
    return {grad_input, grad_weight, {}, {}, {}, {}, {}};
  }
};

}  // namespace

void set_depthwise_mode(DepthwiseMode mode) { g_mode = mode; }
DepthwiseMode depthwise_mode() { return g_mode; }

torch::Tensor depthwise_conv2d(const torch::Tensor& input, const torch::Tensor& weight, const DepthwiseGeometry& geom) {
  TORCH_CHECK(input.dim() == 4 && weight.dim() == 4 && weight.size(0) == input.size(1) && weight.size(1) == 1,
              "depthwise_conv2d: input [N,C,H,W] and weight [C,1,k,k] expected, got ", input.sizes(), " and ",
              weight.sizes());
  // Measured at NAS shapes: oneDNN has the fastest forward, but libtorch runs the backward of
  // 5x5, dilated and large-plane depthwise convs as per-group GEMMs, 3-10x slower than the
  // direct kernels. Small undilated 3x3 planes stay with libtorch entirely.
  if (nchw_cpu_bf16(input) && depthwise_mode() != DepthwiseMode::Torch)
    return through_float32(
        input, [&](const torch::Tensor& f) { return depthwise_conv2d(f, weight.to(torch::kFloat32), geom); });
  const bool direct_wins =
      geom.stride == 1 && (geom.kernel >= 5 || geom.dilation > 1 || input.size(2) * input.size(3) >= 1024);
  const DepthwiseMode mode = g_mode;
  const bool use_direct = mode == DepthwiseMode::Direct || (mode == DepthwiseMode::Auto && direct_wins);
  const bool supported = geom.kernel <= 8 && geom.padding <= (geom.kernel - 1) * geom.dilation;
  const bool nchw = input.suggest_memory_format() != torch::MemoryFormat::ChannelsLast;
  if (!nchw && mode != DepthwiseMode::Torch && depthwise_nhwc_supported(input, weight, geom))
    return depthwise_conv2d_nhwc(input, weight, geom, /*relu_input=*/false);
  if (use_direct && supported && nchw && input.device().is_cpu() && input.scalar_type() == torch::kFloat32 &&
      weight.scalar_type() == torch::kFloat32) {
    return DepthwiseFunction::apply(input, weight, geom.kernel, geom.stride, geom.padding, geom.dilation,
                                    /*onednn_forward=*/mode == DepthwiseMode::Auto);
  }
  return torch::conv2d(input, weight, {}, geom.stride, geom.padding, geom.dilation,
                       /*groups=*/input.size(1));
}

DepthwiseConv2dImpl::DepthwiseConv2dImpl(int64_t channels, DepthwiseGeometry g) : geom(g) {
  weight = register_parameter("weight", torch::empty({channels, 1, g.kernel, g.kernel}));
  torch::nn::init::kaiming_uniform_(weight, /*a=*/std::sqrt(5.0));
}

torch::Tensor DepthwiseConv2dImpl::forward(const torch::Tensor& x) { return depthwise_conv2d(x, weight, geom); }

}  // namespace dnas::ops
