// Direct 1x1 convolution on channels-last float32: an [N*H*W, Cin] matrix of pixels times the
// [Cin, Cout] weights, and its two gradients. Channel counts are small (<= 16): each pixel's
// outputs, and each weight-gradient row, stay in registers as vectors of 4 or 8 lanes.
#include "dnas/ops/pointwise_conv.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "dnas/ops/depthwise_conv.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

// Widest channel count (in and out) the kernel takes: at 32 and more, oneDNN's blocked kernels
// win at some shapes (measured: 32->32, 48->16 and 36->36 channels are slower here).
constexpr int64_t kMaxChannels = 16;
// Multiply-adds per thread below which a loop stays on one thread.
constexpr int64_t kGrainProducts = 32768;
// Pixels per partial sum of the weight gradient: fixed, so the sums do not depend on threads.
constexpr int64_t kBlockPixels = 512;

#define DNAS_PW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#pragma GCC diagnostic ignored "-Wpsabi"  // vectors never cross a non-inlined call

// Vectors of L floats (GCC vector extension), read and written unaligned.
template <int L>
struct FloatLanes {
  typedef float Vec __attribute__((vector_size(L * sizeof(float))));
  __attribute__((always_inline)) static Vec load(const float* p) {
    Vec v;
    __builtin_memcpy(&v, p, sizeof(Vec));
    return v;
  }
  __attribute__((always_inline)) static void store(float* p, Vec v) { __builtin_memcpy(p, &v, sizeof(Vec)); }
};

// out[p, o] = sum over i of in[p, i] * mat[i, o], for pixels [p0, p1); in is [P, I], mat
// [I, O], out [P, O]. Each output row is kB vectors of L lanes (O = kB * L), kept in registers;
// the sum runs over i in order.
template <int L, int kB>
__attribute__((always_inline)) inline void rows_times_matrix_lanes(const float* __restrict in,
                                                                   const float* __restrict mat, float* __restrict out,
                                                                   int64_t p0, int64_t p1, int64_t I) {
  using F = FloatLanes<L>;
  constexpr int O = L * kB;
  for (int64_t p = p0; p < p1; ++p) {
    const float* x = in + p * I;
    typename F::Vec acc[kB];
    for (int b = 0; b < kB; ++b) acc[b] = x[0] * F::load(mat + b * L);
    for (int64_t i = 1; i < I; ++i)
      for (int b = 0; b < kB; ++b) acc[b] += x[i] * F::load(mat + i * O + b * L);
    for (int b = 0; b < kB; ++b) F::store(out + p * O + b * L, acc[b]);
  }
}

// The same for any O (up to kMaxChannels), one lane at a time.
__attribute__((always_inline)) inline void rows_times_matrix_scalar(const float* __restrict in,
                                                                    const float* __restrict mat, float* __restrict out,
                                                                    int64_t p0, int64_t p1, int64_t I, int64_t O) {
  for (int64_t p = p0; p < p1; ++p) {
    const float* x = in + p * I;
    float acc[kMaxChannels];
    for (int64_t o = 0; o < O; ++o) acc[o] = x[0] * mat[o];
    for (int64_t i = 1; i < I; ++i)
      for (int64_t o = 0; o < O; ++o) acc[o] += x[i] * mat[i * O + o];
    for (int64_t o = 0; o < O; ++o) out[p * O + o] = acc[o];
  }
}

// acc[o, i] = sum over pixels [p0, p1) of g[p, o] * x[p, i], in pixel order; x is [P, I], g
// [P, O]. Each row of acc is kB vectors of L lanes (I = kB * L), kept in registers.
template <int L, int kB>
__attribute__((always_inline)) inline void outer_product_sums_lanes(const float* __restrict x,
                                                                    const float* __restrict g, float* __restrict acc,
                                                                    int64_t p0, int64_t p1, int64_t O) {
  using F = FloatLanes<L>;
  constexpr int I = L * kB;
  for (int64_t o = 0; o < O; ++o) {
    typename F::Vec sums[kB] = {};
    for (int64_t p = p0; p < p1; ++p) {
      const float go = g[p * O + o];
      for (int b = 0; b < kB; ++b) sums[b] += go * F::load(x + p * I + b * L);
    }
    for (int b = 0; b < kB; ++b) F::store(acc + o * I + b * L, sums[b]);
  }
}

__attribute__((always_inline)) inline void outer_product_sums_scalar(const float* __restrict x,
                                                                     const float* __restrict g, float* __restrict acc,
                                                                     int64_t p0, int64_t p1, int64_t I, int64_t O) {
  for (int64_t o = 0; o < O; ++o) {
    float sums[kMaxChannels] = {};
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t i = 0; i < I; ++i) sums[i] += g[p * O + o] * x[p * I + i];
    for (int64_t i = 0; i < I; ++i) acc[o * I + i] = sums[i];
  }
}

// Calls f(lanes, vectors) as compile-time constants for a row of n floats: 4 lanes for n = 4,
// 8 lanes for 8 and 16; false when n takes the scalar loop. Every path is inlined into the
// caller's target clone (a call out of it would run without the clone's instruction set).
template <class F>
__attribute__((always_inline)) inline bool with_row_lanes(int64_t n, F&& f) {
  using std::integral_constant;
  if (n == 4) return f(integral_constant<int, 4>{}, integral_constant<int, 1>{}), true;
  if (n == 8) return f(integral_constant<int, 8>{}, integral_constant<int, 1>{}), true;
  if (n == 16) return f(integral_constant<int, 8>{}, integral_constant<int, 2>{}), true;
  return false;
}

DNAS_PW_CLONES void rows_times_matrix(const float* in, const float* mat, float* out, int64_t p0, int64_t p1, int64_t I,
                                      int64_t O) {
  const bool vectorised = with_row_lanes(
      O, [&](auto lanes, auto vectors) __attribute__((always_inline)) {
        rows_times_matrix_lanes<decltype(lanes)::value, decltype(vectors)::value>(in, mat, out, p0, p1, I);
      });
  if (!vectorised) rows_times_matrix_scalar(in, mat, out, p0, p1, I, O);
}

DNAS_PW_CLONES void outer_product_sums(const float* x, const float* g, float* acc, int64_t p0, int64_t p1, int64_t I,
                                       int64_t O) {
  const bool vectorised = with_row_lanes(
      I, [&](auto lanes, auto vectors) __attribute__((always_inline)) {
        outer_product_sums_lanes<decltype(lanes)::value, decltype(vectors)::value>(x, g, acc, p0, p1, O);
      });
  if (!vectorised) outer_product_sums_scalar(x, g, acc, p0, p1, I, O);
}

int64_t pixel_grain(int64_t I, int64_t O) { return std::max<int64_t>(64, kGrainProducts / (I * O)); }

// in [P, I] times mat [I, O] into out [P, O], the pixels split over threads.
void multiply_rows(const float* in, const float* mat, float* out, int64_t P, int64_t I, int64_t O) {
  at::parallel_for(0, P, pixel_grain(I, O),
                   [&](int64_t p0, int64_t p1) { rows_times_matrix(in, mat, out, p0, p1, I, O); });
}

// [N, C, H, W] float32, channels-last, of x's options.
torch::Tensor empty_nhwc(const torch::Tensor& x, int64_t channels) {
  return torch::empty({x.size(0), channels, x.size(2), x.size(3)},
                      x.options().memory_format(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor forward_kernel(const torch::Tensor& x, const torch::Tensor& w) {
  const int64_t I = x.size(1), O = w.size(0), P = x.numel() / I;
  auto mat = w.reshape({O, I}).t().contiguous();  // [I, O]
  auto y = empty_nhwc(x, O);
  multiply_rows(x.data_ptr<float>(), mat.data_ptr<float>(), y.data_ptr<float>(), P, I, O);
  return y;
}

torch::Tensor input_gradient(const torch::Tensor& g, const torch::Tensor& w) {
  const int64_t O = g.size(1), I = w.size(1), P = g.numel() / O;
  auto mat = w.reshape({O, I}).contiguous();  // [O, I]
  auto gx = empty_nhwc(g, I);
  multiply_rows(g.data_ptr<float>(), mat.data_ptr<float>(), gx.data_ptr<float>(), P, O, I);
  return gx;
}

torch::Tensor weight_gradient(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& w) {
  const int64_t I = x.size(1), O = g.size(1), P = x.numel() / I;
  const int64_t blocks = (P + kBlockPixels - 1) / kBlockPixels;
  std::vector<float> partial(static_cast<size_t>(blocks * O * I));  // [blocks, O, I]
  const float* xd = x.data_ptr<float>();
  const float* gd = g.data_ptr<float>();
  const int64_t grain = std::max<int64_t>(1, pixel_grain(I, O) / kBlockPixels);
  at::parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      outer_product_sums(xd, gd, partial.data() + b * O * I, b * kBlockPixels, std::min(P, (b + 1) * kBlockPixels), I,
                         O);
  });
  auto gw = torch::empty_like(w);  // [O, I, 1, 1] in w's strides: memory [O, I] either way
  float* out = gw.data_ptr<float>();
  for (int64_t k = 0; k < O * I; ++k) {
    double sum = 0;
    for (int64_t b = 0; b < blocks; ++b) sum += partial[static_cast<size_t>(b * O * I + k)];
    out[k] = static_cast<float>(sum);
  }
  return gw;
}

struct PointwiseNhwcFunction : public torch::autograd::Function<PointwiseNhwcFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w) {
    ctx->save_for_backward({x, w});
    return forward_kernel(x, w);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w = saved[1];
    const auto g = grads[0].contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor gx, gw;
    if (ctx->needs_input_grad(0)) gx = input_gradient(g, w);
    if (ctx->needs_input_grad(1)) gw = weight_gradient(x, g, w);
    return {gx, gw};
  }
};

}  // namespace

bool pointwise_nhwc_supported(const torch::Tensor& input, const torch::Tensor& weight) {
  return input.device().is_cpu() && weight.device().is_cpu() && input.scalar_type() == torch::kFloat &&
         weight.scalar_type() == torch::kFloat && input.dim() == 4 && weight.dim() == 4 && weight.size(2) == 1 &&
         weight.size(3) == 1 && weight.size(1) == input.size(1) && input.size(1) <= kMaxChannels &&
         weight.size(0) <= kMaxChannels && input.numel() > 0 &&
         input.is_contiguous(torch::MemoryFormat::ChannelsLast) &&
         (weight.is_contiguous() || weight.is_contiguous(torch::MemoryFormat::ChannelsLast)) &&
         depthwise_mode() != DepthwiseMode::Torch && !at::autocast::is_cpu_enabled();
}

torch::Tensor pointwise_conv2d_nhwc(const torch::Tensor& input, const torch::Tensor& weight) {
  TORCH_CHECK(pointwise_nhwc_supported(input, weight), "pointwise_conv2d_nhwc: unsupported input ", input.sizes(), " ",
              input.scalar_type(), " or weight ", weight.sizes());
  return PointwiseNhwcFunction::apply(input, weight);
}

torch::Tensor conv1x1(const torch::Tensor& input, const torch::Tensor& weight) {
  return pointwise_nhwc_supported(input, weight) ? pointwise_conv2d_nhwc(input, weight) : torch::conv2d(input, weight);
}

}  // namespace dnas::ops
