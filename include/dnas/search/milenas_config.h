#pragma once
// MiLeNAS settings (docs/methods.md 2).

namespace dnas::search {

struct MilenasConfig {
  double lambda = 1.0;  // milenas.lambda: weight of the validation-loss gradient
  bool clip_arch_grads_like_code =
      false;  // milenas.clip_arch_grads_like_code: clip alpha's gradient norm (to search.w_grad_clip) instead of w's
};

}  // namespace dnas::search
