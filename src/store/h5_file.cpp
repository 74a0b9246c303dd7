#include "dnas/store/h5_file.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

#include "dnas/core/error.h"

namespace dnas::store {
namespace {

// Releases an HDF5 identifier of any kind (file object, space, type, property list) at scope exit.
class Id {
 public:
  explicit Id(hid_t id) : id_(id) {}
  ~Id() {
    if (id_ >= 0) H5Idec_ref(id_);
  }
  Id(Id&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
};

// HDF5 prints nothing itself (errors become dnas errors with the stack's text, see
// error_stack_text) and installs no exit handler: every handle is closed by its owner, and the
// library's own clean-up at exit crashed after a failed write (a full disk).
void silence_hdf5_errors() {
  static const bool done = [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

herr_t add_error_line(unsigned n, const H5E_error2_t* e, void* text) {
  auto& out = *static_cast<std::string*>(text);
  if (n < 4 && e->desc != nullptr && *e->desc != '\0') out += std::string(out.empty() ? "" : "; ") + e->desc;
  return 0;
}

// The innermost messages of HDF5's error stack (what really failed, e.g. a file lock).
std::string error_stack_text() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, add_error_line, &text);
  return text.empty() ? "" : " (HDF5: " + text + ")";
}

std::string open_hint(const std::string& stack, const std::string& fallback) {
  if (stack.find("lock") != std::string::npos)
    return "the file system refused HDF5's file lock (common on NFS/Lustre): set HDF5_USE_FILE_LOCKING=FALSE";
  return fallback;
}

[[noreturn]] void h5_fail(const std::string& what, const std::string& file, const std::string& object,
                          const std::string& hint = "") {
  fail(what + (object.empty() ? "" : " '" + object + "'"), file,
       hint.empty() ? "the file may be truncated, corrupt or written by another program" : hint);
}

hid_t memory_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32:
      return H5T_NATIVE_FLOAT;
    case torch::kFloat64:
      return H5T_NATIVE_DOUBLE;
    case torch::kInt64:
      return H5T_NATIVE_INT64;
    case torch::kInt32:
      return H5T_NATIVE_INT32;
    case torch::kUInt8:
      return H5T_NATIVE_UINT8;
    case torch::kBool:
      return H5T_NATIVE_UINT8;
    default:
      return -1;
  }
}

torch::ScalarType scalar_type_of(hid_t type, const std::string& file, const std::string& name) {
  const auto cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) return size == 4 ? torch::kFloat32 : torch::kFloat64;
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 8) return torch::kInt64;
    if (size == 4) return torch::kInt32;
    if (size == 1 && !is_signed) return torch::kUInt8;
  }
  h5_fail("unsupported element type of dataset", file, name, "dnas reads float32/64, int32/64 and uint8");
}

// Link-creation properties that create missing parent groups.
Id parents_created() {
  Id lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return lcpl;
}

std::string normalized(const std::string& object) { return object.empty() ? "/" : object; }

}  // namespace

H5File::H5File(const std::string& path, Mode mode) : path_(path) {
  silence_hdf5_errors();
  if (mode == Mode::Create) {
    id_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (id_ < 0) {
      const auto stack = error_stack_text();
      fail("cannot create HDF5 file" + stack, path,
           open_hint(stack, "check that the directory exists and is writable"));
    }
    return;
  }
  if (!std::filesystem::exists(path)) fail("file not found", path, "check the path");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    fail("not an HDF5 file (or truncated)", path, "the file is damaged or of another format");
  id_ = H5Fopen(path.c_str(), mode == Mode::Read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
  if (id_ < 0) {
    const auto stack = error_stack_text();
    fail("cannot open HDF5 file" + stack, path,
         open_hint(stack, "the file may be truncated, corrupt or locked by another writer"));
  }
}

H5File::~H5File() {
  if (id_ >= 0) H5Fclose(id_);
}

H5File::H5File(H5File&& other) noexcept : path_(std::move(other.path_)), id_(other.id_) { other.id_ = -1; }

bool H5File::exists(const std::string& object) const {
  const std::string o = normalized(object);
  if (o == "/") return true;
  // Every prefix must exist for H5Lexists to be safe.
  size_t pos = 0;
  while ((pos = o.find('/', pos + 1)) != std::string::npos)
    if (H5Lexists(id_, o.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
  return H5Lexists(id_, o.c_str(), H5P_DEFAULT) > 0;
}

std::vector<std::string> H5File::list(const std::string& group) const {
  Id g(H5Gopen2(id_, normalized(group).c_str(), H5P_DEFAULT));
  if (!g.ok()) h5_fail("missing group", path_, group);
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) h5_fail("cannot list group", path_, group);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string name(static_cast<size_t>(n), '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

bool H5File::is_dataset(const std::string& object) const {
  if (!exists(object)) return false;
  Id ds(H5Dopen2(id_, object.c_str(), H5P_DEFAULT));
  return ds.ok();
}

namespace {

herr_t add_attribute_name(hid_t, const char* name, const H5A_info_t*, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}

}  // namespace

std::vector<std::string> H5File::attribute_names(const std::string& object) const {
  Id obj(H5Oopen(id_, normalized(object).c_str(), H5P_DEFAULT));
  if (!obj.ok()) h5_fail("missing object", path_, object);
  std::vector<std::string> names;
  hsize_t idx = 0;
  if (H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, add_attribute_name, &names) < 0)
    h5_fail("cannot list attributes of", path_, object);
  return names;
}

void H5File::write_tensor(const std::string& name, const torch::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  if (t.scalar_type() == torch::kBool) t = t.to(torch::kUInt8);
  const hid_t type = memory_type(t.scalar_type());
  if (type < 0) h5_fail("cannot store tensor of this dtype", path_, name, "convert to float32/64 or int64");
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  Id space(t.dim() == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(t.dim(), dims.data(), nullptr));
  auto lcpl = parents_created();
  Id ds(H5Dcreate2(id_, name.c_str(), type, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!ds.ok()) h5_fail("cannot create dataset", path_, name, "the name may already exist");
  if (t.numel() > 0 && H5Dwrite(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) < 0)
    h5_fail("cannot write dataset", path_, name, "check free disk space");
}

torch::Tensor H5File::read_tensor(const std::string& name) const {
  if (!exists(name)) h5_fail("missing dataset", path_, name);
  Id ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  if (!ds.ok()) h5_fail("cannot open dataset", path_, name);
  Id space(H5Dget_space(ds.get()));
  Id ftype(H5Dget_type(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) h5_fail("cannot read the shape of dataset", path_, name);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> shape(dims.begin(), dims.end());
  auto out = torch::empty(shape, torch::TensorOptions().dtype(scalar_type_of(ftype.get(), path_, name)));
  if (out.numel() > 0 &&
      H5Dread(ds.get(), memory_type(out.scalar_type()), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()) < 0)
    h5_fail("cannot read dataset", path_, name);
  return out;
}

std::vector<double> H5File::read_doubles(const std::string& name) const {
  const auto t = read_tensor(name).to(torch::kFloat64).contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

void H5File::write_strings(const std::string& name, const std::vector<std::string>& values) {
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::string buffer(width * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buffer.begin() + i * width);
  Id type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), width);
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const hsize_t n = values.size();
  Id space(H5Screate_simple(1, &n, nullptr));
  auto lcpl = parents_created();
  Id ds(H5Dcreate2(id_, name.c_str(), type.get(), space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!ds.ok()) h5_fail("cannot create string dataset", path_, name, "the name may already exist");
  if (n > 0 && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    h5_fail("cannot write string dataset", path_, name);
}

std::vector<std::string> H5File::read_strings(const std::string& name) const {
  if (!exists(name)) h5_fail("missing dataset", path_, name);
  Id ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  Id type(H5Dget_type(ds.get()));
  Id space(H5Dget_space(ds.get()));
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0 ||
      H5Sget_simple_extent_ndims(space.get()) != 1)
    h5_fail("not a 1-D fixed-length string dataset", path_, name);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  const size_t width = H5Tget_size(type.get());
  std::string buffer(width * n, '\0');
  if (n > 0 && H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    h5_fail("cannot read string dataset", path_, name);
  std::vector<std::string> out;
  for (hsize_t i = 0; i < n; ++i) {
    std::string s = buffer.substr(i * width, width);
    out.push_back(s.substr(0, s.find('\0')));
  }
  return out;
}

void H5File::append_row(const std::string& name, const torch::Tensor& row_in) {
  auto row = row_in.detach().to(torch::kCPU).contiguous();
  const hid_t type = memory_type(row.scalar_type());
  if (type < 0) h5_fail("cannot store rows of this dtype", path_, name);
  const int rank = static_cast<int>(row.dim()) + 1;
  std::vector<hsize_t> row_dims(row.sizes().begin(), row.sizes().end());
  if (!exists(name)) {
    std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{64};
    for (auto d : row_dims) dims.push_back(d), maxdims.push_back(d), chunk.push_back(std::max<hsize_t>(d, 1));
    Id space(H5Screate_simple(rank, dims.data(), maxdims.data()));
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl.get(), rank, chunk.data());
    auto lcpl = parents_created();
    Id created(H5Dcreate2(id_, name.c_str(), type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
    if (!created.ok()) h5_fail("cannot create extensible dataset", path_, name);
  }
  Id ds(H5Dopen2(id_, name.c_str(), H5P_DEFAULT));
  Id old_space(H5Dget_space(ds.get()));
  if (H5Sget_simple_extent_ndims(old_space.get()) != rank)
    h5_fail("row rank does not match dataset", path_, name, "append rows of one shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(old_space.get(), dims.data(), nullptr);
  for (int i = 1; i < rank; ++i)
    if (dims[i] != row_dims[i - 1])
      h5_fail("row shape does not match dataset", path_, name, "append rows of one shape");
  std::vector<hsize_t> start(static_cast<size_t>(rank), 0), count(dims);
  start[0] = dims[0];
  count[0] = 1;
  dims[0] += 1;
  if (H5Dset_extent(ds.get(), dims.data()) < 0) h5_fail("cannot extend dataset", path_, name);
  Id space(H5Dget_space(ds.get()));
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Id mem(H5Screate_simple(rank, count.data(), nullptr));
  if (H5Dwrite(ds.get(), type, mem.get(), space.get(), H5P_DEFAULT, row.data_ptr()) < 0)
    h5_fail("cannot append to dataset", path_, name);
}

namespace {

void write_attribute(hid_t file, const std::string& path, const std::string& object, const std::string& key, hid_t type,
                     const void* data) {
  Id obj(H5Oopen(file, normalized(object).c_str(), H5P_DEFAULT));
  if (!obj.ok()) h5_fail("missing object for attribute", path, object + "@" + key);
  if (H5Aexists(obj.get(), key.c_str()) > 0) H5Adelete(obj.get(), key.c_str());
  Id space(H5Screate(H5S_SCALAR));
  Id attr(H5Acreate2(obj.get(), key.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.ok() || H5Awrite(attr.get(), type, data) < 0) h5_fail("cannot write attribute", path, object + "@" + key);
}

}  // namespace

void H5File::set_attribute(const std::string& object, const std::string& key, const std::string& value) {
  // Variable-length UTF-8, which h5py reads as str.
  Id type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const char* data = value.c_str();
  write_attribute(id_, path_, object, key, type.get(), &data);
}

void H5File::set_attribute(const std::string& object, const std::string& key, double value) {
  write_attribute(id_, path_, object, key, H5T_NATIVE_DOUBLE, &value);
}

void H5File::set_attribute(const std::string& object, const std::string& key, int64_t value) {
  write_attribute(id_, path_, object, key, H5T_NATIVE_INT64, &value);
}

bool H5File::has_attribute(const std::string& object, const std::string& key) const {
  if (!exists(object)) return false;
  return H5Aexists_by_name(id_, normalized(object).c_str(), key.c_str(), H5P_DEFAULT) > 0;
}

std::string H5File::string_attribute(const std::string& object, const std::string& key) const {
  if (!has_attribute(object, key)) h5_fail("missing attribute", path_, object + "@" + key);
  Id attr(H5Aopen_by_name(id_, normalized(object).c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  Id type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) h5_fail("attribute is not a string", path_, object + "@" + key);
  if (H5Tis_variable_str(type.get()) > 0) {
    char* s = nullptr;
    if (H5Aread(attr.get(), type.get(), &s) < 0) h5_fail("cannot read attribute", path_, object + "@" + key);
    std::string out = s ? s : "";
    H5free_memory(s);
    return out;
  }
  std::string out(H5Tget_size(type.get()), '\0');
  if (H5Aread(attr.get(), type.get(), out.data()) < 0) h5_fail("cannot read attribute", path_, object + "@" + key);
  out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
  return out;
}

double H5File::number_attribute(const std::string& object, const std::string& key) const {
  if (!has_attribute(object, key)) h5_fail("missing attribute", path_, object + "@" + key);
  Id attr(H5Aopen_by_name(id_, normalized(object).c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT));
  Id type(H5Aget_type(attr.get()));
  const auto cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) h5_fail("attribute is not a number", path_, object + "@" + key);
  double v = 0.0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) < 0) h5_fail("cannot read attribute", path_, object + "@" + key);
  return v;
}

void H5File::flush() {
  if (H5Fflush(id_, H5F_SCOPE_GLOBAL) < 0) fail("cannot flush HDF5 file", path_, "check free disk space");
}

void commit_file(const std::string& from, const std::string& to) {
  const int fd = ::open(from.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    fail("cannot sync file", from, "check free disk space");
  }
  ::close(fd);
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (ec) fail("cannot rename " + from + " to " + to + ": " + ec.message(), to, "check permissions");
  const auto dir = std::filesystem::path(to).parent_path();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace dnas::store
