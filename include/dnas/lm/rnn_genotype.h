#pragma once
// Recurrent cell genotypes (DARTS/NASP RNN space): node i (1..n) takes one predecessor
// j < i with one activation; node 0 mixes x_t and h_{t-1}. The cell output is the mean of
// the `concat` nodes. Text form, as the reference code prints it:
//   Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ...], concat=range(1, 9))
#include <string>
#include <utility>
#include <vector>

namespace dnas::lm {

struct RnnGenotype {
  std::vector<std::pair<std::string, int>> recurrent;  // node i+1: (activation, predecessor)
  std::vector<int> concat;                             // averaged nodes, ascending
};

// tanh, relu, sigmoid, identity: the activations of the space.
const std::vector<std::string>& rnn_activations();

// Parses and validates the text form; `where` names the source in errors.
RnnGenotype parse_rnn_genotype(const std::string& text, const std::string& where);
std::string format_rnn_genotype(const RnnGenotype& g);

// DARTS_V1 / DARTS_V2 (the DARTS paper's PTB cells); throws listing the names otherwise.
RnnGenotype published_rnn_genotype(const std::string& name);
// A published name or the text form.
RnnGenotype resolve_rnn_genotype(const std::string& name_or_text, const std::string& where);

}  // namespace dnas::lm
