#include "dnas/ops/precision.h"

#include <ATen/autocast_mode.h>

#include "dnas/core/error.h"

namespace dnas::ops {
namespace {

thread_local bool t_force_fp32 = false;

}  // namespace

Precision parse_precision(const std::string& name, const std::string& key) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16") return Precision::Bf16;
  if (name == "fp16") return Precision::Fp16;
  fail("unknown precision '" + name + "'", key, "use fp32, bf16 or fp16 (fp16 on CUDA only)");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::Fp32:
      return "fp32";
    case Precision::Bf16:
      return "bf16";
    case Precision::Fp16:
      return "fp16";
  }
  return "?";
}

c10::ScalarType activation_dtype(Precision p) {
  switch (p) {
    case Precision::Bf16:
      return c10::ScalarType::BFloat16;
    case Precision::Fp16:
      return c10::ScalarType::Half;
    case Precision::Fp32:
      break;
  }
  return c10::ScalarType::Float;
}

AutocastScope::AutocastScope(Precision p, c10::Device device) {
  if (p == Precision::Fp32 || t_force_fp32) return;
  active_ = true;
  cuda_ = device.is_cuda();
  TORCH_CHECK(cuda_ || device.is_cpu(), "autocast: cpu or cuda device expected, got ", device);
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    was_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(activation_dtype(p));
  } else {
    TORCH_CHECK(p == Precision::Bf16, "autocast: fp16 is for CUDA devices only");
    was_enabled_ = at::autocast::is_cpu_enabled();
    was_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(activation_dtype(p));
  }
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(was_dtype_);
  }
}

FullPrecisionScope::FullPrecisionScope()
    : was_forced_(t_force_fp32), was_cpu_(at::autocast::is_cpu_enabled()), was_cuda_(at::autocast::is_enabled()) {
  t_force_fp32 = true;
  at::autocast::set_cpu_enabled(false);  // an enclosing AutocastScope pauses here
  at::autocast::set_enabled(false);
}

FullPrecisionScope::~FullPrecisionScope() {
  t_force_fp32 = was_forced_;
  at::autocast::set_cpu_enabled(was_cpu_);
  at::autocast::set_enabled(was_cuda_);
}

}  // namespace dnas::ops
