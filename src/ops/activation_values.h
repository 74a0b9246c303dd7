#pragma once
// Element access of the NHWC kernels for float32 and bfloat16 activations: values are read as
// float and written back in the activation type, rounding to nearest even as c10::BFloat16
// does (NaN -> 0x7FC0), so one kernel computes in float32 for both. Float32 access is the
// identity. Private to the ops module.
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

// The same on L lanes: L activations as a float vector, and back.
template <int L>
struct ActivationLanes {
  typedef float Vec __attribute__((vector_size(sizeof(float) * L)));

  __attribute__((always_inline)) static Vec load(const float* p) {
    Vec v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  // Lane by lane through a float array: GCC turns these loops into vector conversions.
  __attribute__((always_inline)) static Vec load(const c10::BFloat16* p) {
    float lanes[L];
    for (int l = 0; l < L; ++l) lanes[l] = widen(p[l]);
    Vec v;
    __builtin_memcpy(&v, lanes, sizeof v);
    return v;
  }
  __attribute__((always_inline)) static void store(float* p, Vec v) { __builtin_memcpy(p, &v, sizeof v); }
  __attribute__((always_inline)) static void store(c10::BFloat16* p, Vec v) {
    float lanes[L];
    __builtin_memcpy(lanes, &v, sizeof v);
    for (int l = 0; l < L; ++l) put(p + l, lanes[l]);
  }
};

}  // namespace dnas::ops
