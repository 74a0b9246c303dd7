#pragma once
// Model size and compute of an evaluation network or a supernet, as the papers report them:
// parameters (with and without the auxiliary head) and multiply-adds of one inference
// forward at a given input size (convolutions and linear layers; no aux head).
#include <cstdint>
#include <string>

#include "dnas/eval/eval_network.h"
#include "dnas/genotype/genotype.h"
#include "dnas/supernet/supernet.h"

namespace dnas::eval {

struct NetworkCost {
  int64_t parameters = 0;           // without the auxiliary head
  int64_t parameters_with_aux = 0;  // equal to parameters when there is no aux head
  int64_t multiply_adds = 0;        // one image of height x width
};

NetworkCost network_cost(const genotype::Genotype& genotype, const EvalNetworkConfig& config, int64_t height,
                         int64_t width);

// The even C (a multiple of 4 with the imagenet stem) whose network has, without the auxiliary
// head, the parameter count nearest `target` (ties to the smaller C): the Stretchable Cells
// protocol of matching parameter counts across cells. config.channels is ignored.
int64_t channels_for_parameters(const genotype::Genotype& genotype, EvalNetworkConfig config, int64_t target);

// The supernet with every op of every edge (what one DARTS forward computes).
NetworkCost supernet_cost(const supernet::SupernetConfig& config, int64_t height, int64_t width);

}  // namespace dnas::eval
