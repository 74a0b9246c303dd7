#pragma once
// The retrain part of a results file (HDF5; schema in the README), under `group`:
//   metrics/<column>  [epochs] float64: epoch lr drop_path train_loss train_acc val_loss val_acc seconds
//                     data_wait
//   attributes: genotype, genotype_hash, genotype_origin, parameters, parameters_with_aux,
//               multiply_adds, selected_epoch, test_loss, test_acc, test_top5_acc, seconds
// Files written before data_wait and test_top5_acc existed read back 0 and NaN for them.
#include <string>

#include "dnas/store/h5_file.h"
#include "dnas/train/trainer.h"

namespace dnas::train {

void write_train_results(store::H5File& file, const std::string& group, const TrainResult& result);

// The inverse of write_train_results (a study assembles its experiment records from them).
TrainResult read_train_results(const store::H5File& file, const std::string& group);

}  // namespace dnas::train
