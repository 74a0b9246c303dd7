#pragma once
// The arithmetic rate of `dnas bench` cases: the convolution and linear-layer FLOPs of a step
// (multiply-adds as the papers count them, 2 FLOPs each) and the machine's peak from a large
// matrix product. Private to the bench module.
#include <string>

#include "dnas/bench/bench.h"

namespace dnas::bench {

// FLOPs of one step of `mode` at `shape` (a search shape, or the retrain shape of the same name
// for "retrain"), counted in forward-pass equivalents of the network's multiply-adds: a pass
// that needs weight gradients costs 3 forwards (forward, input and weight gradients), one that
// needs only the input gradients (an architecture gradient) 2. weight and retrain: 3; darts_1st:
// alpha pass 2 + weight step 3; darts_2nd: virtual step 3 + validation at w' 3 + two Hessian
// passes 2 + 2 + weight step 3. Other modes: 0 (not counted).
double step_flops(const BenchShape& shape, const std::string& mode, const std::string& op_set);

// Best rate in GFLOP/s of an n x n by n x n matrix product in `dtype_name` (fp32 | bf16) over
// `repeats` runs on the current intra-op threads, as a BLAS product or a oneDNN 1x1 convolution,
// whichever is faster.
double matmul_peak_gflops(const std::string& dtype_name, int64_t n = 2048, int repeats = 5);

}  // namespace dnas::bench
