#pragma once
// The search part of a results file (HDF5; schema in the README), under `group`:
//   metrics/<column>   [epochs] float64: epoch lr train_loss train_acc search_val_acc val_loss val_acc seconds
//   arch/<name>        [epochs, ...]: the method's architecture tensors at each epoch's end
//   genotypes          [epochs] strings: the genotype derived at each epoch's end
//   ops_normal, ops_reduce  strings: the op (column) names of the [E, O] arch tensors
//   attributes: method, genotype, genotype_hash, weight_parameters, seconds, epochs
#include <string>

#include "dnas/search/search_loop.h"
#include "dnas/store/h5_file.h"

namespace dnas::search {

void write_search_results(store::H5File& file, const std::string& group, const SearchResult& result,
                          const std::string& method);

// The inverse of write_search_results (a finished search reused by another experiment).
SearchResult read_search_results(const store::H5File& file, const std::string& group);

}  // namespace dnas::search
