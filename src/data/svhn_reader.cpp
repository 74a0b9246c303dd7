#include "dnas/data/svhn_reader.h"

#include <fmt/format.h>
#include <matio.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>

#include "dnas/core/error.h"

namespace dnas::data {
namespace {

constexpr int64_t kSide = 32, kChannels = 3, kClasses = 10;
const char* const kSvhnHint =
    "use the cropped-digit files train_32x32.mat / test_32x32.mat / extra_32x32.mat from "
    "http://ufldl.stanford.edu/housenumbers/ unchanged";

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

std::string dims_text(const matvar_t& v) {
  std::string s;
  for (int i = 0; i < v.rank; ++i) s += (i ? "x" : "") + std::to_string(v.dims[i]);
  return s;
}

std::string where(const std::string& path, const char* variable) { return path + ", variable " + variable; }

// The variable with its data; its class must be one of `classes` and it must be real.
MatVar read_variable(mat_t* mat, const std::string& path, const char* name,
                     std::initializer_list<matio_classes> classes, const std::string& expected) {
  MatVar info(Mat_VarReadInfo(mat, name));
  if (!info) fail(std::string("variable '") + name + "' not found", path, kSvhnHint);
  bool class_ok = false;
  for (auto c : classes) class_ok = class_ok || info->class_type == c;
  if (!class_ok || info->isComplex)
    fail(std::string("variable is not ") + expected + " (matio class " + std::to_string(info->class_type) +
             (info->isComplex ? ", complex" : "") + ")",
         where(path, name), kSvhnHint);
  MatVar var(Mat_VarRead(mat, name));
  if (!var || !var->data) fail("cannot read the variable's data", where(path, name), "the file may be truncated");
  return var;
}

size_t element_count(const matvar_t& v) {
  size_t n = 1;
  for (int i = 0; i < v.rank; ++i) n *= v.dims[i];
  return n;
}

// Label j of y (read as its class's C type) as a double.
double label_value(const matvar_t& y, size_t j) {
  switch (y.class_type) {
    case MAT_C_DOUBLE:
      return static_cast<const double*>(y.data)[j];
    case MAT_C_SINGLE:
      return static_cast<const float*>(y.data)[j];
    default:
      return static_cast<const uint8_t*>(y.data)[j];  // MAT_C_UINT8
  }
}

}  // namespace

ImageSet read_svhn_mat(const std::string& path) {
  MatFile mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  if (!mat) fail("cannot open as a MATLAB file", path, kSvhnHint);

  const MatVar x = read_variable(mat.get(), path, "X", {MAT_C_UINT8}, "uint8");
  if (x->rank != 4 || x->dims[0] != kSide || x->dims[1] != kSide || x->dims[2] != kChannels)
    fail("X is " + dims_text(*x) + ", expected 32x32x3xN", where(path, "X"), kSvhnHint);
  const auto n = static_cast<int64_t>(x->dims[3]);
  if (x->nbytes != element_count(*x) || x->data_size != 1)
    fail("X holds " + std::to_string(x->nbytes) + " bytes for " + dims_text(*x) + " uint8 values", where(path, "X"),
         "the file may be truncated");

  const MatVar y =
      read_variable(mat.get(), path, "y", {MAT_C_DOUBLE, MAT_C_SINGLE, MAT_C_UINT8}, "double, single or uint8");
  if (y->rank != 2 || !(y->dims[1] == 1 || y->dims[0] == 1))
    fail("y is " + dims_text(*y) + ", expected Nx1", where(path, "y"), kSvhnHint);
  if (static_cast<int64_t>(element_count(*y)) != n)
    fail("y has " + std::to_string(element_count(*y)) + " labels but X has " + std::to_string(n) + " images",
         where(path, "y"), "X and y come from different files");

  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (size_t j = 0; j < labels.size(); ++j) {
    const double v = label_value(*y, j);
    if (!(v >= 1 && v <= kClasses && v == std::floor(v)))
      fail(fmt::format("label {}", v) + " of image " + std::to_string(j) + " is not an integer in 1..10",
           where(path, "y"), kSvhnHint);
    labels[j] = static_cast<int64_t>(v) % kClasses;  // 10 is the digit 0
  }
  // Column-major X(r, c, k, n) sits at r + 32 c + 1024 k + 3072 n: as a row-major array that is
  // [n, k, c, r], so swapping the last two dimensions gives [N, 3, 32 rows, 32 columns].
  auto images = torch::from_blob(x->data, {n, kChannels, kSide, kSide}, torch::kUInt8).transpose(2, 3).contiguous();
  return {images, torch::tensor(labels, torch::kInt64)};  // [N, 3, 32, 32], [N]
}

}  // namespace dnas::data
