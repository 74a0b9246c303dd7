#pragma once
// Named genotypes from the literature with their reported CIFAR-10 facts.
#include <string>
#include <vector>

#include "dnas/genotype/genotype.h"

namespace dnas::genotype {

struct PublishedGenotype {
  std::string name;      // lookup key, e.g. "DARTS_V2"
  std::string text;      // genotype text as in the source repository
  std::string paper;     // short citation
  double cifar10_error;  // reported CIFAR-10 test error in %
  double params_m;       // reported parameters in millions
  std::string note;
};

const std::vector<PublishedGenotype>& published_genotypes();

// Name lookup is case-insensitive; "DARTS" means DARTS_V2 (as in the DARTS code).
bool is_published_genotype(const std::string& name);
const PublishedGenotype& published_genotype_info(const std::string& name);  // throws if unknown
Genotype published_genotype(const std::string& name);                       // throws listing the known names

// "NASNet, AmoebaNet, ..." for help texts and error hints.
std::string published_genotype_names();

}  // namespace dnas::genotype
