// Direct 1x1 convolution on channels-last float32: an [N*H*W, Cin] matrix of pixels times the
// [Cin, Cout] weights, and its two gradients. Channel counts are small (<= 8), so each pixel's
// outputs stay in registers; fixed sizes are instantiated for 4 and 8 channels.
#include "dnas/ops/pointwise_conv.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "dnas/ops/depthwise_conv.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

// Widest channel count the kernel takes: from 16 channels on, oneDNN is faster.
constexpr int64_t kMaxChannels = 8;
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

// Lanes per vector for a fixed channel count: 8 where it divides, else 4, else none (scalar).
constexpr int lanes_for(int channels) {
  return channels > 0 && channels % 8 == 0 ? 8 : channels > 0 && channels % 4 == 0 ? 4 : 0;
}

// out[p, o] = sum over i of in[p, i] * mat[i, o], for pixels [p0, p1); in is [P, I], mat
// [I, O], out [P, O]. kI, kO > 0 fix the sizes at compile time; a fixed kO is vectorised.
template <int kI, int kO>
__attribute__((always_inline)) inline void rows_times_matrix_impl(const float* __restrict in,
                                                                  const float* __restrict mat, float* __restrict out,
                                                                  int64_t p0, int64_t p1, int64_t I_, int64_t O_) {
  const int64_t I = kI > 0 ? kI : I_, O = kO > 0 ? kO : O_;
  constexpr int L = lanes_for(kO);
  if constexpr (L > 0) {
    using F = FloatLanes<L>;
    constexpr int B = kO / L;  // vectors per output row
    for (int64_t p = p0; p < p1; ++p) {
      const float* x = in + p * I;
      typename F::Vec acc[B];
      for (int b = 0; b < B; ++b) acc[b] = x[0] * F::load(mat + b * L);
      for (int64_t i = 1; i < I; ++i)
        for (int b = 0; b < B; ++b) acc[b] += x[i] * F::load(mat + i * kO + b * L);
      for (int b = 0; b < B; ++b) F::store(out + p * kO + b * L, acc[b]);
    }
  } else {
    for (int64_t p = p0; p < p1; ++p) {
      const float* x = in + p * I;
      float acc[kMaxChannels];
      for (int64_t o = 0; o < O; ++o) acc[o] = x[0] * mat[o];
      for (int64_t i = 1; i < I; ++i)
        for (int64_t o = 0; o < O; ++o) acc[o] += x[i] * mat[i * O + o];
      float* y = out + p * O;
      for (int64_t o = 0; o < O; ++o) y[o] = acc[o];
    }
  }
}

// acc[o, i] = sum over pixels [p0, p1) of g[p, o] * x[p, i]; x is [P, I], g [P, O]. A fixed kI
// is vectorised.
template <int kI, int kO>
__attribute__((always_inline)) inline void outer_product_sums_impl(const float* __restrict x, const float* __restrict g,
                                                                   float* __restrict acc, int64_t p0, int64_t p1,
                                                                   int64_t I_, int64_t O_) {
  const int64_t I = kI > 0 ? kI : I_, O = kO > 0 ? kO : O_;
  constexpr int L = lanes_for(kI);
  if constexpr (L > 0 && kO > 0) {
    using F = FloatLanes<L>;
    constexpr int B = kI / L;  // vectors per row of x
    typename F::Vec sums[kO][B] = {};
    for (int64_t p = p0; p < p1; ++p) {
      typename F::Vec xv[B];
      for (int b = 0; b < B; ++b) xv[b] = F::load(x + p * kI + b * L);
      const float* gp = g + p * kO;
      for (int o = 0; o < kO; ++o)
        for (int b = 0; b < B; ++b) sums[o][b] += gp[o] * xv[b];
    }
    for (int o = 0; o < kO; ++o)
      for (int b = 0; b < B; ++b) F::store(acc + o * kI + b * L, sums[o][b]);
  } else {
    float sums[kMaxChannels * kMaxChannels] = {};
    for (int64_t p = p0; p < p1; ++p) {
      const float* xp = x + p * I;
      const float* gp = g + p * O;
      for (int64_t o = 0; o < O; ++o)
        for (int64_t i = 0; i < I; ++i) sums[o * I + i] += gp[o] * xp[i];
    }
    for (int64_t k = 0; k < O * I; ++k) acc[k] = sums[k];
  }
}

// Sizes instantiated at compile time: 4 and 8 channels in and out; any other size up to
// kMaxChannels takes the runtime-sized loop.
template <template <int, int> class Kernel, class... Args>
__attribute__((always_inline)) inline void dispatch_sizes(int64_t I, int64_t O, Args... args) {
  auto fixed = [&](auto i, auto o) { Kernel<decltype(i)::value, decltype(o)::value>::run(args..., I, O); };
  using C4 = std::integral_constant<int, 4>;
  using C8 = std::integral_constant<int, 8>;
  using C0 = std::integral_constant<int, 0>;
  if (I == 4 && O == 4) return fixed(C4{}, C4{});
  if (I == 8 && O == 8) return fixed(C8{}, C8{});
  if (I == 4 && O == 8) return fixed(C4{}, C8{});
  if (I == 8 && O == 4) return fixed(C8{}, C4{});
  return fixed(C0{}, C0{});
}

template <int kI, int kO>
struct RowsTimesMatrix {
  __attribute__((always_inline)) static void run(const float* in, const float* mat, float* out, int64_t p0, int64_t p1,
                                                 int64_t I, int64_t O) {
    rows_times_matrix_impl<kI, kO>(in, mat, out, p0, p1, I, O);
  }
};

template <int kI, int kO>
struct OuterProductSums {
  __attribute__((always_inline)) static void run(const float* x, const float* g, float* acc, int64_t p0, int64_t p1,
                                                 int64_t I, int64_t O) {
    outer_product_sums_impl<kI, kO>(x, g, acc, p0, p1, I, O);
  }
};

DNAS_PW_CLONES void rows_times_matrix(const float* in, const float* mat, float* out, int64_t p0, int64_t p1, int64_t I,
                                      int64_t O) {
  dispatch_sizes<RowsTimesMatrix>(I, O, in, mat, out, p0, p1);
}

DNAS_PW_CLONES void outer_product_sums(const float* x, const float* g, float* acc, int64_t p0, int64_t p1, int64_t I,
                                       int64_t O) {
  dispatch_sizes<OuterProductSums>(I, O, x, g, acc, p0, p1);
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
