#pragma once
// Element access of the NHWC kernels for float32 and bfloat16 activations: values are read as
// float and written back in the activation type, rounding to nearest even as c10::BFloat16
// does (NaN -> 0x7FC0), so one kernel computes in float32 for both. Float32 access is the
// identity. Private to the ops module.
#include <ATen/core/Tensor.h>
#include <c10/util/BFloat16.h>

#include <cstdint>

namespace dnas::ops {

__attribute__((always_inline)) inline float widen(float x) { return x; }
__attribute__((always_inline)) inline float widen(c10::BFloat16 x) {
  const uint32_t bits = static_cast<uint32_t>(x.x) << 16;
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}

__attribute__((always_inline)) inline void put(float* p, float v) { *p = v; }
__attribute__((always_inline)) inline void put(c10::BFloat16* p, float v) {
  uint32_t bits;
  __builtin_memcpy(&bits, &v, sizeof bits);
  const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
  p->x = static_cast<uint16_t>(v != v ? 0x7FC0u : rounded);
}

// Unsigned lane vectors for the bfloat16 conversions, one specialisation per lane count (a
// vector typedef that depends on a template's own parameter reads as a scalar to GCC there).
template <int L>
struct Bf16Bits;
template <>
struct Bf16Bits<16> {
  typedef uint16_t Half __attribute__((vector_size(32)));
  typedef uint32_t Word __attribute__((vector_size(64)));
};
template <>
struct Bf16Bits<8> {
  typedef uint16_t Half __attribute__((vector_size(16)));
  typedef uint32_t Word __attribute__((vector_size(32)));
};
template <>
struct Bf16Bits<4> {
  typedef uint16_t Half __attribute__((vector_size(8)));
  typedef uint32_t Word __attribute__((vector_size(16)));
};

// Calls f with a null pointer of the activation type of x (float or BFloat16).
template <class F>
decltype(auto) with_activation_type(const at::Tensor& x, F&& f) {
  if (x.scalar_type() == at::kBFloat16) return f(static_cast<c10::BFloat16*>(nullptr));
  return f(static_cast<float*>(nullptr));
}

// The same on L lanes: L activations as a float vector, and back.
template <int L>
struct ActivationLanes {
  typedef float Vec __attribute__((vector_size(sizeof(float) * L)));

  __attribute__((always_inline)) static Vec load(const float* p) {
    Vec v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  __attribute__((always_inline)) static Vec load(const c10::BFloat16* p) {
    Vec v;
    if constexpr (L == 1) {
      const float f = widen(*p);
      __builtin_memcpy(&v, &f, sizeof f);
    } else {
      using B = Bf16Bits<L>;
      typename B::Half h;
      __builtin_memcpy(&h, p, sizeof h);
      const auto bits = __builtin_convertvector(h, typename B::Word) << 16;
      __builtin_memcpy(&v, &bits, sizeof v);
    }
    return v;
  }
  __attribute__((always_inline)) static void store(float* p, Vec v) { __builtin_memcpy(p, &v, sizeof v); }
  __attribute__((always_inline)) static void store(c10::BFloat16* p, Vec v) {
    if constexpr (L == 1) {
      float f;
      __builtin_memcpy(&f, &v, sizeof f);
      put(p, f);
    } else {
      using B = Bf16Bits<L>;
      typename B::Word bits;
      __builtin_memcpy(&bits, &v, sizeof bits);
      const typename B::Word rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
      const typename B::Word out = v != v ? typename B::Word{} + 0x7FC0u : rounded;
      const auto h = __builtin_convertvector(out, typename B::Half);
      __builtin_memcpy(p, &h, sizeof h);
    }
  }
};

}  // namespace dnas::ops
