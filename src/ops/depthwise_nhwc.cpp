// Channels-last depthwise conv: forward and both gradients vectorised over channels, with an
// optional ReLU of the input inside the kernel (sep_conv / dil_conv start with one). oneDNN's
// NHWC backward is 3x slower than its forward, and 3-4x slower again when dilated. Float32 or
// bfloat16 activations (read as float, sums in float, one rounding per output); float32 weights
// and weight gradients.
#include <torch/torch.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "activation_values.h"
#include "dnas/ops/depthwise_conv.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

#define DNAS_NHWC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#pragma GCC diagnostic ignored "-Wpsabi"  // vectors never cross a non-inlined call

using BF16 = c10::BFloat16;

template <int L>
struct Lanes : ActivationLanes<L> {
  using Vec = typename ActivationLanes<L>::Vec;
  // A NaN stays NaN, as torch::relu keeps it (a diverged run must not look finite); one compare,
  // so 16-lane vectors stay one select (an OR of two masks made GCC split them: 6x slower).
  __attribute__((always_inline)) static Vec relu(Vec v) { return v < Vec{} ? Vec{} : v; }
  // v where mask > 0, else 0 (a NaN of v is zeroed too, as a ReLU gradient does).
  __attribute__((always_inline)) static Vec keep_where_positive(Vec v, Vec mask) { return mask > Vec{} ? v : Vec{}; }
};

// Shapes of one call: input [N, H, W, C] and output [N, OH, OW, C] in memory.
struct Plan {
  int64_t N, C, H, W, OH, OW, K, S, P, D;
};

// Columns ow whose taps all fall inside [0, W): [lo, hi).
std::pair<int64_t, int64_t> interior_columns(const Plan& p) {
  int64_t lo = 0;
  while (lo < p.OW && lo * p.S - p.P < 0) ++lo;
  int64_t hi = p.OW;
  while (hi > lo && (hi - 1) * p.S - p.P + (p.K - 1) * p.D >= p.W) --hi;
  return {lo, hi};
}

// Channel blocks of L lanes; the last block of a row ends at C and may overlap the one before
// (its lanes below `fresh` repeat channels already done): writes are idempotent, and sums
// skip the repeated lanes.
template <int L, class F>
__attribute__((always_inline)) inline void for_channel_blocks(int64_t C, F&& block) {
  int64_t c = 0;
  for (; c + L <= C; c += L) block(c, 0);
  if (c < C) block(C - L, L - (C - c));
}

// One output row of image `in`, channels [c0, c0 + L): out[ow] = sum over taps of
// wt[tap] * f(in[...]), zeroed where mask <= 0 when a mask row is given. wt is [K*K, C];
// kK > 0 fixes the kernel size at compile time (the weights then stay in registers).
template <int L, int kK, bool kRelu, class T>
__attribute__((always_inline)) inline void conv_row_block(const Plan& p, const T* in, const float* wt, T* out,
                                                          const T* mask, int64_t oh, int64_t c0,
                                                          std::pair<int64_t, int64_t> inner) {
  using V = Lanes<L>;
  using Vec = typename V::Vec;
  const int64_t K = kK > 0 ? kK : p.K;
  Vec w[kK > 0 ? kK * kK : 49];
  for (int64_t t = 0; t < K * K; ++t) w[t] = V::load(wt + t * p.C + c0);
  const T* rows[kK > 0 ? kK : 7];  // input row of each kh, null when outside the image
  for (int64_t kh = 0; kh < K; ++kh) {
    const int64_t ih = oh * p.S + kh * p.D - p.P;
    rows[kh] = ih >= 0 && ih < p.H ? in + ih * p.W * p.C + c0 : nullptr;
  }
  auto pixel = [&](int64_t ow, bool checked) __attribute__((always_inline)) {
    Vec acc{};
    for (int64_t kh = 0; kh < K; ++kh) {
      if (!rows[kh]) continue;
      for (int64_t kw = 0; kw < K; ++kw) {
        const int64_t iw = ow * p.S + kw * p.D - p.P;
        if (checked && (iw < 0 || iw >= p.W)) continue;
        Vec v = V::load(rows[kh] + iw * p.C);
        if constexpr (kRelu) v = V::relu(v);
        acc += w[kh * K + kw] * v;
      }
    }
    if (mask) acc = V::keep_where_positive(acc, V::load(mask + ow * p.C + c0));
    V::store(out + ow * p.C + c0, acc);
  };
  for (int64_t ow = 0; ow < inner.first; ++ow) pixel(ow, true);
  for (int64_t ow = inner.first; ow < inner.second; ++ow) pixel(ow, false);
  for (int64_t ow = inner.second; ow < p.OW; ++ow) pixel(ow, true);
}

template <int kK, bool kRelu, class T>
__attribute__((always_inline)) inline void conv_row_lanes(const Plan& p, const T* in, const float* wt, T* out,
                                                          const T* mask, int64_t oh) {
  const auto inner = interior_columns(p);
  auto run = [&](auto lanes) __attribute__((always_inline)) {
    constexpr int L = decltype(lanes)::value;
    for_channel_blocks<L>(
        p.C, [&](int64_t c0, int64_t) __attribute__((always_inline)) {
          conv_row_block<L, kK, kRelu, T>(p, in, wt, out, mask, oh, c0, inner);
        });
  };
  if (p.C >= 16) return run(std::integral_constant<int, 16>{});
  if (p.C >= 8) return run(std::integral_constant<int, 8>{});
  if (p.C >= 4) return run(std::integral_constant<int, 4>{});
  run(std::integral_constant<int, 1>{});
}

template <bool kRelu, class T>
__attribute__((always_inline)) inline void conv_row_impl(const Plan& p, const T* in, const float* wt, T* out,
                                                         const T* mask, int64_t oh) {
  if (p.K == 3) return conv_row_lanes<3, kRelu, T>(p, in, wt, out, mask, oh);
  if (p.K == 5) return conv_row_lanes<5, kRelu, T>(p, in, wt, out, mask, oh);
  conv_row_lanes<0, kRelu, T>(p, in, wt, out, mask, oh);
}

DNAS_NHWC_CLONES
void conv_row(const Plan& p, const float* in, const float* wt, float* out, const float* mask, int64_t oh, bool relu) {
  if (relu) return conv_row_impl<true>(p, in, wt, out, mask, oh);
  conv_row_impl<false>(p, in, wt, out, mask, oh);
}

DNAS_NHWC_CLONES
void conv_row(const Plan& p, const BF16* in, const float* wt, BF16* out, const BF16* mask, int64_t oh, bool relu) {
  if (relu) return conv_row_impl<true>(p, in, wt, out, mask, oh);
  conv_row_impl<false>(p, in, wt, out, mask, oh);
}

// Strided backward of one image: grad_in [H, W, C] += transposed conv of grad_out [OH, OW, C].
template <class T>
__attribute__((always_inline)) inline void scatter_image_impl(const Plan& p, const T* gout, const float* wt,
                                                              float* gin) {
  for (int64_t oh = 0; oh < p.OH; ++oh)
    for (int64_t kh = 0; kh < p.K; ++kh) {
      const int64_t ih = oh * p.S + kh * p.D - p.P;
      if (ih < 0 || ih >= p.H) continue;
      for (int64_t ow = 0; ow < p.OW; ++ow)
        for (int64_t kw = 0; kw < p.K; ++kw) {
          const int64_t iw = ow * p.S + kw * p.D - p.P;
          if (iw < 0 || iw >= p.W) continue;
          const T* g = gout + (oh * p.OW + ow) * p.C;
          const float* w = wt + (kh * p.K + kw) * p.C;
          float* dst = gin + (ih * p.W + iw) * p.C;
          for (int64_t c = 0; c < p.C; ++c) dst[c] += w[c] * widen(g[c]);
        }
    }
}

DNAS_NHWC_CLONES
void scatter_image(const Plan& p, const float* gout, const float* wt, float* gin) {
  scatter_image_impl(p, gout, wt, gin);
}

DNAS_NHWC_CLONES
void scatter_image(const Plan& p, const BF16* gout, const float* wt, float* gin) {
  scatter_image_impl(p, gout, wt, gin);
}

// gw [K*K, C] += sum over output rows [r0, r1) (r = n * OH + oh) of grad_out * f(input) per
// tap, for channels [c0, c0 + L) but lanes below `fresh` (repeated channels). Sums stay in
// float registers over the rows and go to double once.
template <int L, int kK, bool kRelu, class T>
__attribute__((always_inline)) inline void weight_rows_block(const Plan& p, const T* x, const T* gout, double* gw,
                                                             int64_t r0, int64_t r1, int64_t c0, int64_t fresh,
                                                             std::pair<int64_t, int64_t> inner) {
  using V = Lanes<L>;
  using Vec = typename V::Vec;
  const int64_t K = kK > 0 ? kK : p.K;
  Vec acc[kK > 0 ? kK * kK : 49] = {};
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t oh = r % p.OH;
    const T* in = x + (r / p.OH) * p.H * p.W * p.C;
    const T* grow = gout + r * p.OW * p.C + c0;
    const T* rows[kK > 0 ? kK : 7];
    for (int64_t kh = 0; kh < K; ++kh) {
      const int64_t ih = oh * p.S + kh * p.D - p.P;
      rows[kh] = ih >= 0 && ih < p.H ? in + ih * p.W * p.C + c0 : nullptr;
    }
    auto pixel = [&](int64_t ow, bool checked) __attribute__((always_inline)) {
      const Vec g = V::load(grow + ow * p.C);
      for (int64_t kh = 0; kh < K; ++kh) {
        if (!rows[kh]) continue;
        for (int64_t kw = 0; kw < K; ++kw) {
          const int64_t iw = ow * p.S + kw * p.D - p.P;
          if (checked && (iw < 0 || iw >= p.W)) continue;
          Vec v = V::load(rows[kh] + iw * p.C);
          if constexpr (kRelu) v = V::relu(v);
          acc[kh * K + kw] += g * v;
        }
      }
    };
    for (int64_t ow = 0; ow < inner.first; ++ow) pixel(ow, true);
    for (int64_t ow = inner.first; ow < inner.second; ++ow) pixel(ow, false);
    for (int64_t ow = inner.second; ow < p.OW; ++ow) pixel(ow, true);
  }
  for (int64_t t = 0; t < K * K; ++t) {
    double* dst = gw + t * p.C + c0;
    for (int64_t l = fresh; l < L; ++l) dst[l] += static_cast<double>(acc[t][l]);
  }
}

template <int kK, bool kRelu, class T>
__attribute__((always_inline)) inline void weight_rows_lanes(const Plan& p, const T* x, const T* gout, double* gw,
                                                             int64_t r0, int64_t r1) {
  const auto inner = interior_columns(p);
  auto run = [&](auto lanes) __attribute__((always_inline)) {
    constexpr int L = decltype(lanes)::value;
    for_channel_blocks<L>(
        p.C, [&](int64_t c0, int64_t fresh) __attribute__((always_inline)) {
          weight_rows_block<L, kK, kRelu, T>(p, x, gout, gw, r0, r1, c0, fresh, inner);
        });
  };
  if (p.C >= 16) return run(std::integral_constant<int, 16>{});
  if (p.C >= 8) return run(std::integral_constant<int, 8>{});
  if (p.C >= 4) return run(std::integral_constant<int, 4>{});
  run(std::integral_constant<int, 1>{});
}

template <bool kRelu, class T>
__attribute__((always_inline)) inline void weight_rows_impl(const Plan& p, const T* x, const T* gout, double* gw,
                                                            int64_t r0, int64_t r1) {
  if (p.K == 3) return weight_rows_lanes<3, kRelu, T>(p, x, gout, gw, r0, r1);
  if (p.K == 5) return weight_rows_lanes<5, kRelu, T>(p, x, gout, gw, r0, r1);
  weight_rows_lanes<0, kRelu, T>(p, x, gout, gw, r0, r1);
}

DNAS_NHWC_CLONES
void weight_rows(const Plan& p, const float* x, const float* gout, double* gw, int64_t r0, int64_t r1, bool relu) {
  if (relu) return weight_rows_impl<true>(p, x, gout, gw, r0, r1);
  weight_rows_impl<false>(p, x, gout, gw, r0, r1);
}

DNAS_NHWC_CLONES
void weight_rows(const Plan& p, const BF16* x, const BF16* gout, double* gw, int64_t r0, int64_t r1, bool relu) {
  if (relu) return weight_rows_impl<true>(p, x, gout, gw, r0, r1);
  weight_rows_impl<false>(p, x, gout, gw, r0, r1);
}

// Zeroes grad where x <= 0 (the input ReLU's gradient), over `count` values.
DNAS_NHWC_CLONES
void mask_rows(float* grad, const float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) grad[i] = x[i] > 0.f ? grad[i] : 0.f;
}

DNAS_NHWC_CLONES
void mask_rows(float* grad, const BF16* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) grad[i] = widen(x[i]) > 0.f ? grad[i] : 0.f;
}

// [C, 1, K, K] weight -> [K*K, C], optionally flipped (tap t -> K*K-1-t) for the transposed conv.
std::vector<float> taps_by_channel(const torch::Tensor& weight, bool flip) {
  const auto w = weight.to(torch::kFloat32).contiguous();
  const int64_t C = w.size(0), T = w.size(2) * w.size(3);
  const float* src = w.data_ptr<float>();
  std::vector<float> out(static_cast<size_t>(T * C));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < T; ++t) out[static_cast<size_t>((flip ? T - 1 - t : t) * C + c)] = src[c * T + t];
  return out;
}

Plan plan_of(const torch::Tensor& x, const DepthwiseGeometry& g) {
  return {x.size(0), x.size(1), x.size(2), x.size(3), g.out_size(x.size(2)), g.out_size(x.size(3)),
          g.kernel,  g.stride,  g.padding, g.dilation};
}

template <class T>
void forward_rows(const Plan& p, const T* x, const float* wt, T* y, bool relu) {
  at::parallel_for(0, p.N * p.OH, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / p.OH, oh = r % p.OH;
      conv_row(p, x + n * p.H * p.W * p.C, wt, y + r * p.OW * p.C, nullptr, oh, relu);
    }
  });
}

// grad_input of a stride-1 conv: the correlation of grad_out with the flipped kernel, padded by
// (K-1)D - P, zeroed where the input ReLU was off.
template <class T>
void input_grad_stride1(const Plan& p, const T* gout, const float* flipped, const T* x, T* gin, bool relu) {
  const Plan t{p.N, p.C, p.OH, p.OW, p.H, p.W, p.K, 1, (p.K - 1) * p.D - p.P, p.D};
  at::parallel_for(0, p.N * p.H, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / p.H, ih = r % p.H;
      conv_row(t, gout + n * p.OH * p.OW * p.C, flipped, gin + r * p.W * p.C, relu ? x + r * p.W * p.C : nullptr, ih,
               /*relu=*/false);
    }
  });
}

// grad_input of a strided conv, scattered into float sums [N, H, W, C].
template <class T>
void input_grad_strided(const Plan& p, const T* gout, const float* wt, const T* x, float* gin, bool relu) {
  at::parallel_for(0, p.N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* gi = gin + n * p.H * p.W * p.C;
      scatter_image(p, gout + n * p.OH * p.OW * p.C, wt, gi);
      if (relu) mask_rows(gi, x + n * p.H * p.W * p.C, p.H * p.W * p.C);
    }
  });
}

// grad_weight [C, 1, K, K] float32. Fixed row chunks summed in order: the result does not
// depend on the thread count.
template <class T>
torch::Tensor weight_grad(const Plan& p, const T* x, const T* gout, bool relu) {
  const int64_t rows = p.N * p.OH, chunks = std::clamp<int64_t>(rows / 8, 1, 64);
  const int64_t per = (rows + chunks - 1) / chunks, T2 = p.K * p.K;
  std::vector<double> partial(static_cast<size_t>(chunks * T2 * p.C), 0.0);
  at::parallel_for(0, chunks, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k)
      weight_rows(p, x, gout, partial.data() + k * T2 * p.C, k * per, std::min(rows, (k + 1) * per), relu);
  });
  auto gw = torch::zeros({p.C, 1, p.K, p.K}, torch::kFloat64);  // [C, 1, K, K]
  double* dst = gw.data_ptr<double>();
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t t = 0; t < T2; ++t)
      for (int64_t c = 0; c < p.C; ++c) dst[c * T2 + t] += partial[static_cast<size_t>((k * T2 + t) * p.C + c)];
  return gw.to(torch::kFloat32);
}

class DepthwiseNhwcFunction : public torch::autograd::Function<DepthwiseNhwcFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, int64_t kernel, int64_t stride, int64_t padding,
                               int64_t dilation, bool relu) {
    const DepthwiseGeometry g{kernel, stride, padding, dilation};
    const Plan p = plan_of(input, g);
    auto out = torch::empty({p.N, p.C, p.OH, p.OW}, input.options().memory_format(torch::MemoryFormat::ChannelsLast));
    const auto wt = taps_by_channel(weight, /*flip=*/false);
    with_activation_type(input, [&](auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      forward_rows(p, input.data_ptr<T>(), wt.data(), out.data_ptr<T>(), relu);
    });
    ctx->save_for_backward({input, weight});
    ctx->saved_data["geom"] = std::vector<int64_t>{kernel, stride, padding, dilation};
    ctx->saved_data["relu"] = relu;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const auto geo = ctx->saved_data["geom"].toIntVector();
    const DepthwiseGeometry g{geo[0], geo[1], geo[2], geo[3]};
    const bool relu = ctx->saved_data["relu"].toBool();
    const Plan p = plan_of(input, g);
    const auto gout_t = grads[0].to(input.scalar_type()).contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor grad_input, grad_weight;
    with_activation_type(input, [&](auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      const T* x = input.data_ptr<T>();
      const T* gout = gout_t.data_ptr<T>();
      if (ctx->needs_input_grad(0)) {
        if (p.S == 1) {
          grad_input = torch::empty_like(input, torch::MemoryFormat::ChannelsLast);
          const auto flipped = taps_by_channel(saved[1], /*flip=*/true);
          input_grad_stride1(p, gout, flipped.data(), x, grad_input.data_ptr<T>(), relu);
        } else {
          auto sums = torch::zeros_like(input, input.options().dtype(torch::kFloat32),
                                        torch::MemoryFormat::ChannelsLast);  // float sums of the gradient
          const auto wt = taps_by_channel(saved[1], /*flip=*/false);
          input_grad_strided(p, gout, wt.data(), x, sums.data_ptr<float>(), relu);
          grad_input = sums.to(input.scalar_type());
        }
      }
      if (ctx->needs_input_grad(1))
        grad_weight = weight_grad(p, x, gout, relu).contiguous(saved[1].suggest_memory_format());
    });
    return {grad_input, grad_weight, {}, {}, {}, {}, {}};
  }
};

}  // namespace

bool depthwise_nhwc_supported(const torch::Tensor& input, const torch::Tensor& weight, const DepthwiseGeometry& g) {
  const auto type = input.scalar_type();
  return input.dim() == 4 && input.device().is_cpu() && (type == torch::kFloat32 || type == torch::kBFloat16) &&
         weight.scalar_type() == torch::kFloat32 && input.is_contiguous(torch::MemoryFormat::ChannelsLast) &&
         g.kernel <= 7 && input.numel() > 0;
}

torch::Tensor depthwise_conv2d_nhwc(const torch::Tensor& input, const torch::Tensor& weight, const DepthwiseGeometry& g,
                                    bool relu_input) {
  return DepthwiseNhwcFunction::apply(input, weight, g.kernel, g.stride, g.padding, g.dilation, relu_input);
}

}  // namespace dnas::ops
