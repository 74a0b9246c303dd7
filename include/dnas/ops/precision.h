#pragma once
// The arithmetic precision of a network's activations (run.precision). Weights, optimizer
// state, architecture parameters, losses and batch-norm statistics stay float32 in every mode;
// bf16/fp16 run the forward under libtorch's autocast, so convolutions and matrix products take
// low-precision copies of their operands.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace dnas::ops {

enum class Precision { Fp32, Bf16, Fp16 };

// "fp32" | "bf16" | "fp16"; anything else is an error naming `key`.
Precision parse_precision(const std::string& name, const std::string& key);
const char* precision_name(Precision p);
// The activation dtype of a precision: float32, bfloat16 or float16.
c10::ScalarType activation_dtype(Precision p);

// Autocast for `device`'s type in precision `p` while alive (nothing for Fp32, or inside a
// FullPrecisionScope). Nested scopes restore the state they found; the outermost one clears
// autocast's cache of low-precision weight copies, so weights changed between two forwards
// (the finite-difference steps of a hypergradient) are never read stale.
class AutocastScope {
 public:
  AutocastScope(Precision p, c10::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false, cuda_ = false, was_enabled_ = false;
  c10::ScalarType was_dtype_ = c10::ScalarType::Float;
};

// Forces float32 on this thread while alive: autocast is off, and AutocastScopes opened inside
// it do nothing.
class FullPrecisionScope {
 public:
  FullPrecisionScope();
  ~FullPrecisionScope();
  FullPrecisionScope(const FullPrecisionScope&) = delete;
  FullPrecisionScope& operator=(const FullPrecisionScope&) = delete;

 private:
  bool was_forced_, was_cpu_, was_cuda_;
};

}  // namespace dnas::ops
