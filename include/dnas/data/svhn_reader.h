#pragma once
// Reader for SVHN's cropped-digit files (train_32x32.mat, test_32x32.mat, extra_32x32.mat), MATLAB
// files as matio reads them (format 5, as distributed):
//   X: uint8 [32, 32, 3, N], column-major (row, column, channel, image), so X(r, c, k, n) is pixel
//      (r, c) of channel k of image n;
//   y: [N, 1] double (or single, or uint8), labels 1..10, where 10 stands for the digit 0.
#include <string>

#include "dnas/data/dataset.h"

namespace dnas::data {

// images [N, 3, 32, 32] uint8, labels [N] int64 in 0..9 (the digit). Errors (dnas::Error) name the
// file and the variable: a missing or unreadable file, a missing variable, a wrong class or shape,
// counts of X and y that differ, a label that is not an integer in 1..10.
ImageSet read_svhn_mat(const std::string& path);

}  // namespace dnas::data
