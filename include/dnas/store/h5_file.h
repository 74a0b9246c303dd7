#pragma once
// A small RAII layer over the HDF5 C API: tensors as datasets (any rank, float32/64, int32/64,
// uint8), string and number attributes, extensible 1-D/2-D series, group listings. Paths are
// HDF5 paths ("metrics/train_loss"); missing parent groups are created. Only this module
// includes hdf5.h. Every failure throws dnas::Error naming the file and the object.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnas/core/run_dir.h"

namespace dnas::store {

class H5File {
 public:
  enum class Mode { Create, Read, ReadWrite };  // Create truncates
  H5File(const std::string& path, Mode mode);
  ~H5File();
  H5File(H5File&& other) noexcept;
  H5File& operator=(H5File&&) = delete;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  const std::string& path() const { return path_; }
  bool exists(const std::string& object) const;  // a dataset or group
  // Names of the members of a group ("" or "/" = root), in creation/name order.
  std::vector<std::string> list(const std::string& group) const;
  bool is_dataset(const std::string& object) const;
  std::vector<std::string> attribute_names(const std::string& object) const;

  // A tensor as a dataset (contiguous CPU copy; 0-d tensors become scalar datasets).
  void write_tensor(const std::string& name, const torch::Tensor& t);
  torch::Tensor read_tensor(const std::string& name) const;
  // A numeric dataset's values converted to double, in row-major order (a 1-D series as a vector).
  std::vector<double> read_doubles(const std::string& name) const;

  // Fixed-length UTF-8 strings as a 1-D dataset (h5py reads bytes; .astype(str) decodes).
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  std::vector<std::string> read_strings(const std::string& name) const;

  // Extensible dataset with rows of `row_shape` (empty = scalars): appends one row.
  void append_row(const std::string& name, const torch::Tensor& row);

  // Attributes on an object ("/" = the file).
  void set_attribute(const std::string& object, const std::string& key, const std::string& value);
  void set_attribute(const std::string& object, const std::string& key, double value);
  void set_attribute(const std::string& object, const std::string& key, int64_t value);
  bool has_attribute(const std::string& object, const std::string& key) const;
  std::string string_attribute(const std::string& object, const std::string& key) const;
  double number_attribute(const std::string& object, const std::string& key) const;

  void flush();

 private:
  std::string path_;
  int64_t id_ = -1;  // hid_t
};

// Writes `path` by calling `fill` on a temporary sibling, then fsync + rename, so readers see
// either the old file or the complete new one. The temporary is removed on failure.
template <typename Fill>
void write_atomically(const std::string& path, Fill&& fill);

// fsync(path) then rename(from, to) and fsync the directory; throws naming both.
void commit_file(const std::string& from, const std::string& to);

template <typename Fill>
void write_atomically(const std::string& path, Fill&& fill) {
  const std::string tmp = core::unique_temp_path(path);
  try {
    {
      H5File file(tmp, H5File::Mode::Create);
      fill(file);
      file.flush();
    }
    commit_file(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace dnas::store
