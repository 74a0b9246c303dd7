// Channels-last max pooling (padding (k-1)/2, ties to the first maximum as in torch),
// vectorised over channels. The backward gathers: every input pixel sums the output gradients
// whose window picked it, so rows are written once, in parallel, without zeroing. Inputs with
// NaN or infinite values go through torch's kernel, which defines how they propagate.
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <type_traits>
#include <vector>

#include "dnas/ops/pooling_nhwc.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

#define DNAS_NHWC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

struct PoolPlan {
  int64_t C, H, W, OH, OW, K, S, P;
};

#pragma GCC diagnostic ignored "-Wpsabi"  // vectors never cross a non-inlined call
// Blocks of L channels: 16, or 8 or 4 when C is narrower (the search cells at C = 4 or 8).
template <int L>
struct PoolLanes {
  typedef float Vec __attribute__((vector_size(4 * L)));
  typedef int32_t IVec __attribute__((vector_size(4 * L)));
};
int lanes_for(int64_t C) { return C >= 16 ? 16 : C >= 8 ? 8 : C >= 4 ? 4 : 1; }

template <class T>
__attribute__((always_inline)) inline T load(const void* p) {
  T v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
__attribute__((always_inline)) inline void store(void* p, T v) {
  __builtin_memcpy(p, &v, sizeof v);
}

// Channel blocks: L channels from each start; the last block ends at C and may overlap the one
// before (writes are idempotent). Fewer than 4 channels go one by one (no blocks).
std::vector<int64_t> block_starts(int64_t C, int L) {
  std::vector<int64_t> starts;
  if (L == 1) return starts;
  for (int64_t c = 0; c + L <= C; c += L) starts.push_back(c);
  if (C % L) starts.push_back(C - L);
  return starts;
}

// The window of output (oh, ow), clipped to the image: rows [h0, h1), columns [w0, w1).
struct Window {
  int64_t h0, h1, w0, w1;
};
Window window_of(const PoolPlan& p, int64_t oh, int64_t ow) {
  return {std::max<int64_t>(0, oh * p.S - p.P), std::min(p.H, oh * p.S - p.P + p.K),
          std::max<int64_t>(0, ow * p.S - p.P), std::min(p.W, ow * p.S - p.P + p.K)};
}

// Output pixel (oh, ow), channels [c0, c0 + L): the window's first maximum and its tap
// (kh*K + kw). Returns sum(x * 0), NaN when a value is not finite.
template <int L, class Vec = typename PoolLanes<L>::Vec, class IVec = typename PoolLanes<L>::IVec>
__attribute__((always_inline)) inline Vec max_block(const PoolPlan& p, const float* in, float* out, int32_t* arg,
                                                    int64_t oh, int64_t ow, int64_t c0) {
  const Window w = window_of(p, oh, ow);
  Vec m = load<Vec>(in + (w.h0 * p.W + w.w0) * p.C + c0);
  IVec a = IVec{} + static_cast<int32_t>((w.h0 - oh * p.S + p.P) * p.K + (w.w0 - ow * p.S + p.P));
  Vec finite{};
  for (int64_t ih = w.h0; ih < w.h1; ++ih)
    for (int64_t iw = w.w0; iw < w.w1; ++iw) {
      const Vec v = load<Vec>(in + (ih * p.W + iw) * p.C + c0);
      const IVec better = v > m;  // a plain compare inside ?: stays a masked blend in every clone
      a = better ? IVec{} + static_cast<int32_t>((ih - oh * p.S + p.P) * p.K + (iw - ow * p.S + p.P)) : a;
      m = better ? v : m;
      finite += v * 0.f;
    }
  store(out + ow * p.C + c0, m);
  store(arg + ow * p.C + c0, a);
  return finite;
}

// The same for channel c alone.
float max_one(const PoolPlan& p, const float* in, float* out, int32_t* arg, int64_t oh, int64_t ow, int64_t c) {
  const Window w = window_of(p, oh, ow);
  float m = -std::numeric_limits<float>::infinity(), finite = 0.f;
  int64_t a = 0;
  for (int64_t ih = w.h0; ih < w.h1; ++ih)
    for (int64_t iw = w.w0; iw < w.w1; ++iw) {
      const float v = in[(ih * p.W + iw) * p.C + c];
      if ((ih == w.h0 && iw == w.w0) || v > m) m = v, a = (ih - oh * p.S + p.P) * p.K + (iw - ow * p.S + p.P);
      finite += v * 0.f;
    }
  out[ow * p.C + c] = m;
  arg[ow * p.C + c] = static_cast<int32_t>(a);
  return finite;
}

template <int L>
__attribute__((always_inline)) inline float max_blocks(const PoolPlan& p, const std::vector<int64_t>& blocks,
                                                       const float* in, float* out, int32_t* arg, int64_t oh) {
  typename PoolLanes<L>::Vec finite{};
  for (int64_t ow = 0; ow < p.OW; ++ow)
    for (int64_t c0 : blocks) finite += max_block<L>(p, in, out, arg, oh, ow, c0);
  float sum = 0.f;
  for (int l = 0; l < L; ++l) sum += finite[l];
  return sum;
}

// Output row oh of one image in blocks of `lanes` channels; false when the row read a
// non-finite value.
DNAS_NHWC_CLONES
bool max_row(const PoolPlan& p, int lanes, const std::vector<int64_t>& blocks, const float* in, float* out,
             int32_t* arg, int64_t oh) {
  float finite = 0.f;
  if (lanes == 16) finite = max_blocks<16>(p, blocks, in, out, arg, oh);
  if (lanes == 8) finite = max_blocks<8>(p, blocks, in, out, arg, oh);
  if (lanes == 4) finite = max_blocks<4>(p, blocks, in, out, arg, oh);
  if (lanes == 1)
    for (int64_t ow = 0; ow < p.OW; ++ow)
      for (int64_t c = 0; c < p.C; ++c) finite += max_one(p, in, out, arg, oh, ow, c);
  return finite == 0.f;
}

// For each input coordinate i (a row or a column), the outputs o whose window holds it and
// the offset k = i + P - o*S inside that window.
struct Cover {
  std::vector<int64_t> begin;                        // entries of coordinate i: [begin[i], begin[i + 1])
  std::vector<std::pair<int64_t, int64_t>> entries;  // (o, k)
};
Cover cover(int64_t in, int64_t out, int64_t K, int64_t S, int64_t P) {
  Cover c;
  for (int64_t i = 0; i < in; ++i) {
    c.begin.push_back(static_cast<int64_t>(c.entries.size()));
    for (int64_t o = 0; o < out; ++o)
      if (const int64_t k = i + P - o * S; k >= 0 && k < K) c.entries.emplace_back(o, k);
  }
  c.begin.push_back(static_cast<int64_t>(c.entries.size()));
  return c;
}

// Input pixel (ih, iw), channels [c0, c0 + L) (channel c0 alone when L is 1): the sum of the
// output gradients whose window chose it.
template <int L>
__attribute__((always_inline)) inline void gather_block(const PoolPlan& p, const Cover& rows, const Cover& cols,
                                                        const float* gout, const int32_t* arg, float* gin, int64_t ih,
                                                        int64_t iw, int64_t c0) {
  constexpr bool kOne = L == 1;
  using Vec = typename PoolLanes<L>::Vec;
  using IVec = typename PoolLanes<L>::IVec;
  using T = std::conditional_t<kOne, float, Vec>;
  T sum{};
  for (int64_t i = rows.begin[ih]; i < rows.begin[ih + 1]; ++i) {
    const auto [oh, kh] = rows.entries[i];
    for (int64_t j = cols.begin[iw]; j < cols.begin[iw + 1]; ++j) {
      const auto [ow, kw] = cols.entries[j];
      const int64_t at = (oh * p.OW + ow) * p.C + c0;
      const int32_t tap = static_cast<int32_t>(kh * p.K + kw);
      if constexpr (kOne) {
        if (arg[at] == tap) sum += gout[at];
      } else {
        sum += load<IVec>(arg + at) == tap ? load<Vec>(gout + at) : Vec{};
      }
    }
  }
  store(gin + iw * p.C + c0, sum);
}

template <int L>
__attribute__((always_inline)) inline void gather_blocks(const PoolPlan& p, const std::vector<int64_t>& blocks,
                                                         const Cover& rows, const Cover& cols, const float* gout,
                                                         const int32_t* arg, float* gin, int64_t ih) {
  for (int64_t iw = 0; iw < p.W; ++iw)
    for (int64_t c0 : blocks) gather_block<L>(p, rows, cols, gout, arg, gin, ih, iw, c0);
}

// grad_in row ih of one image, in blocks of `lanes` channels.
DNAS_NHWC_CLONES
void gather_row(const PoolPlan& p, int lanes, const std::vector<int64_t>& blocks, const Cover& rows, const Cover& cols,
                const float* gout, const int32_t* arg, float* gin, int64_t ih) {
  if (lanes == 16) gather_blocks<16>(p, blocks, rows, cols, gout, arg, gin, ih);
  if (lanes == 8) gather_blocks<8>(p, blocks, rows, cols, gout, arg, gin, ih);
  if (lanes == 4) gather_blocks<4>(p, blocks, rows, cols, gout, arg, gin, ih);
  if (lanes == 1)
    for (int64_t iw = 0; iw < p.W; ++iw)
      for (int64_t c = 0; c < p.C; ++c) gather_block<1>(p, rows, cols, gout, arg, gin, ih, iw, c);
}

class MaxPoolNhwcFunction : public torch::autograd::Function<MaxPoolNhwcFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input, int64_t kernel,
                               int64_t stride) {
    const int64_t N = input.size(0), P = (kernel - 1) / 2;
    const PoolPlan p{input.size(1),
                     input.size(2),
                     input.size(3),
                     (input.size(2) + 2 * P - kernel) / stride + 1,
                     (input.size(3) + 2 * P - kernel) / stride + 1,
                     kernel,
                     stride,
                     P};
    const auto cl = input.options().memory_format(torch::MemoryFormat::ChannelsLast);
    auto out = torch::empty({N, p.C, p.OH, p.OW}, cl);
    auto arg = torch::empty({N, p.C, p.OH, p.OW}, cl.dtype(torch::kInt32));  // window tap of each max
    const float* x = input.data_ptr<float>();
    float* y = out.data_ptr<float>();
    int32_t* a = arg.data_ptr<int32_t>();
    const int lanes = lanes_for(p.C);
    const auto blocks = block_starts(p.C, lanes);
    std::atomic<bool> finite{true};
    at::parallel_for(0, N * p.OH, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        if (!max_row(p, lanes, blocks, x + (r / p.OH) * p.H * p.W * p.C, y + r * p.OW * p.C, a + r * p.OW * p.C,
                     r % p.OH))
          finite = false;
    });
    ctx->saved_data["plan"] = std::vector<int64_t>{p.C, p.H, p.W, p.OH, p.OW, p.K, p.S, p.P};
    ctx->saved_data["torch"] = !finite;
    if (!finite) {
      auto [torch_out, indices] = torch::max_pool2d_with_indices(input, kernel, stride, P);
      ctx->save_for_backward({input, indices});
      return torch_out;
    }
    ctx->save_for_backward({arg});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto v = ctx->saved_data["plan"].toIntVector();
    const PoolPlan p{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    if (ctx->saved_data["torch"].toBool())
      return {torch::max_pool2d_with_indices_backward(grads[0], saved[0], p.K, p.S, p.P, 1, false, saved[1]), {}, {}};
    const auto g = grads[0].contiguous(torch::MemoryFormat::ChannelsLast);
    const int64_t N = g.size(0);
    auto grad_input = torch::empty({N, p.C, p.H, p.W}, g.options().memory_format(torch::MemoryFormat::ChannelsLast));
    const float* gp = g.data_ptr<float>();
    const int32_t* a = saved[0].data_ptr<int32_t>();
    float* gi = grad_input.data_ptr<float>();
    const int lanes = lanes_for(p.C);
    const auto blocks = block_starts(p.C, lanes);
    const Cover rows = cover(p.H, p.OH, p.K, p.S, p.P), cols = cover(p.W, p.OW, p.K, p.S, p.P);
    at::parallel_for(0, N * p.H, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t out_image = (r / p.H) * p.OH * p.OW * p.C;
        gather_row(p, lanes, blocks, rows, cols, gp + out_image, a + out_image, gi + r * p.W * p.C, r % p.H);
      }
    });
    return {grad_input, {}, {}};
  }
};

}  // namespace

bool pool_nhwc_supported(const torch::Tensor& x, int64_t kernel) {
  return x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && kernel <= 15 &&
         x.is_contiguous(torch::MemoryFormat::ChannelsLast) && x.numel() > 0;
}

torch::Tensor max_pool2d_nhwc(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  return MaxPoolNhwcFunction::apply(x, kernel, stride);
}

}  // namespace dnas::ops
