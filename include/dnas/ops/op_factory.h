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
CandidateOpPtr make_op(const std::string& name, int64_t channels, int64_t stride,
                       const OpOptions& options);

// Cell preprocessing: ReLU, conv kxk (stride 1, pad k/2), BN with c_in -> c_out channels.
CandidateOpPtr make_relu_conv_bn(int64_t c_in, int64_t c_out, int64_t kernel, bool affine);
CandidateOpPtr make_factorized_reduce(int64_t c_in, int64_t c_out, bool affine);

// Weight count of op `name` at C channels, conv weights only (METHODS.md 1.2, for NASP).
int64_t conv_weight_count(const std::string& name, int64_t channels);

}  // namespace dnas::ops
