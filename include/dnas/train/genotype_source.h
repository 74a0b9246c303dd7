#pragma once
// Where a retrain's genotype comes from: `model.genotype` is a published name (DARTS_V2), the
// text form, a file whose first non-empty line is the text (a search's genotype.txt), or a
// search output directory holding genotype.txt.
#include <string>

#include "dnas/genotype/genotype.h"

namespace dnas::train {

struct ResolvedGenotype {
  genotype::Genotype genotype;
  std::string origin;  // "published DARTS_V2", "file runs/search/genotype.txt", "text"
};

// epoch > 0: `value` must be a search output directory (or its results.h5); its cell derived
// after that epoch (1-based) is taken from search/genotypes.
ResolvedGenotype resolve_genotype(const std::string& value, const std::string& key = "model.genotype",
                                  int64_t epoch = 0);

}  // namespace dnas::train
