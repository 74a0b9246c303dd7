#pragma once
// Reader for the binary version of CIFAR-10 / CIFAR-100.
//   CIFAR-10 record:  1 label byte, then 3072 pixel bytes (R plane, G plane, B plane; 32x32 each).
//   CIFAR-100 record: 1 coarse label byte, 1 fine label byte, then the same 3072 pixel bytes.
#include <string>
#include <vector>

#include "dnas/data/dataset.h"

namespace dnas::data {

enum class CifarKind { Cifar10, Cifar100 };

// Concatenates the records of `files` in order. images [N, 3, 32, 32] uint8, labels [N] int64
// (the fine label for CIFAR-100).
ImageSet read_cifar_binary(const std::vector<std::string>& files, CifarKind kind);

}  // namespace dnas::data
