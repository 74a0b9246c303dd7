#pragma once
// EoiNAS settings (docs/methods.md 4).
#include <cstdint>
#include <string>

namespace dnas::search {

// eoinas.forward: soft (Gumbel softmax, every remaining op) | hard (GDAS straight-through, one op)
enum class EoinasForward { Soft, Hard };
// eoinas.acc_stat: Ca keeps the last accuracy (the code) | the mean since the last prune
enum class EoinasAccStat { Last, Mean };
// eoinas.alpha_init: zeros (paper) | random (1e-3 N(0,1), the code)
enum class EoinasAlphaInit { Zeros, Random };
// eoinas.C_when_Ce0: C of an op not trained since the last prune is 0 | inf (the code: never pruned)
enum class EoinasCWhenCe0 { Zero, Inf };

// Each throws dnas::Error naming its key and the allowed values.
EoinasForward parse_eoinas_forward(const std::string& value);
EoinasAccStat parse_eoinas_acc_stat(const std::string& value);
EoinasAlphaInit parse_eoinas_alpha_init(const std::string& value);
EoinasCWhenCe0 parse_eoinas_C_when_Ce0(const std::string& value);
const char* mode_name(EoinasForward mode);
const char* mode_name(EoinasAccStat mode);
const char* mode_name(EoinasAlphaInit mode);
const char* mode_name(EoinasCWhenCe0 mode);

struct EoinasConfig {
  int64_t warmup_epochs = 20;        // eoinas.warmup_epochs: w only, no alpha steps, no statistics
  int64_t prune_every = 20;          // eoinas.prune_every: prune at the end of 1-based epochs warmup + k*this
  double lambda = 0.5;               // eoinas.lambda: I = softmax(alpha) + lambda * Ca / Ce (0 = "Baseline+GOP")
  bool prune = true;                 // eoinas.prune: gradual operation pruning (false: no GOP)
  std::string forward = "soft";      // eoinas.forward: soft (Gumbel softmax, every remaining op) | hard (GDAS ST)
  std::string acc_stat = "last";     // eoinas.acc_stat: last (the code) | mean (since the last prune)
  double temp0 = 5.0;                // eoinas.temp0: temperature during warm-up and at its end
  double temp_decay = 0.965;         // eoinas.temp_decay: T_e = temp0 * decay^(e - warmup) afterwards
  std::string alpha_init = "zeros";  // eoinas.alpha_init: zeros (paper) | random (1e-3 N(0,1), the code)
  double arch_grad_clip = 0.0;       // eoinas.arch_grad_clip: clip alpha gradients (code: 5; 0 = off)
  double c_reference_window =
      7820;  // eoinas.c_reference_window: C scaled by N / this (the paper's 20 epochs x 391 steps; 0 = unscaled)
  std::string C_when_Ce0 =
      "0";  // eoinas.C_when_Ce0: 0 (C = 0 for an op not trained since the last prune) | inf (the code: never pruned)
  bool skip_dropout = false;  // eoinas.skip_dropout: the code's dropout on skip_connect outputs
};

// Checks ranges and modes; throws dnas::Error naming the offending key.
void validate(const EoinasConfig& config);

}  // namespace dnas::search
