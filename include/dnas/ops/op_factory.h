#pragma once
// Builds candidate ops and cell preprocessing layers by name.
#include <string>

#include "dnas/ops/operations.h"

namespace dnas::ops {

struct OpOptions {
  bool affine = false;  // BN affine: false in the search network, true in the eval network
  bool pool_bn = true;  // search network: pools are followed by BN(affine=false)
};

// Builds op `name` (canonical or alias) for `channels` channels and stride 1 or 2;
// throws dnas::Error on an unknown name.
CandidateOpPtr make_op(const std::string& name, int64_t channels, int64_t stride, const OpOptions& options);

// Cell preprocessing: ReLU, conv kxk (stride 1, pad k/2), BN with c_in -> c_out channels.
CandidateOpPtr make_relu_conv_bn(int64_t c_in, int64_t c_out, int64_t kernel, bool affine);
CandidateOpPtr make_factorized_reduce(int64_t c_in, int64_t c_out, bool affine);

// Weight count of op `name` at C channels, conv weights only (docs/methods.md 1.2, for NASP).
int64_t conv_weight_count(const std::string& name, int64_t channels);

// Multiply-adds of op `name` at C channels on an h x w input with stride 1 or 2, counting
// convolutions only (pools, identity and none are 0), as the papers count FLOPs.
// Outputs are ceil(h/s) x ceil(w/s).
int64_t op_multiply_adds(const std::string& name, int64_t channels, int64_t stride, int64_t h, int64_t w);

}  // namespace dnas::ops
