#include "nccl_comm.h"

#include <cuda_runtime_api.h>
#include <nccl.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "dnas/core/error.h"

namespace dnas::comm::detail {
namespace {

static_assert(sizeof(ncclUniqueId) == sizeof(NcclComm::UniqueId), "NCCL unique id size");

// "host rank R" of this process, for error messages (MPI is initialised before any NCCL call).
std::string where(const char* file, int line) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (rank == nullptr) rank = std::getenv("PMIX_RANK");
  return std::string("NCCL, ") + host + " rank " + (rank ? rank : "?") + " " + file + ":" + std::to_string(line);
}

void check_nccl(ncclResult_t r, const char* call, const char* file, int line) {
  if (r != ncclSuccess)
    fail(std::string(call) + " failed: " + ncclGetErrorString(r), where(file, line),
         "check NCCL_DEBUG=INFO output and that every rank of the group sees a GPU");
}

void check_cuda(cudaError_t r, const char* call, const char* file, int line) {
  if (r != cudaSuccess)
    fail(std::string(call) + " failed: " + cudaGetErrorString(r), where(file, line),
         "check CUDA_VISIBLE_DEVICES and the driver");
}

#define DNAS_NCCL_CHECK(call) check_nccl((call), #call, __FILE__, __LINE__)
#define DNAS_CUDA_CHECK(call) check_cuda((call), #call, __FILE__, __LINE__)

// Every dtype dnas sends: floating-point gradients and parameters, and the integer buffers of
// batch norms (num_batches_tracked, int64) and masks. Bool travels as its byte.
ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat:
      return ncclFloat32;
    case torch::kDouble:
      return ncclFloat64;
    case torch::kHalf:
      return ncclFloat16;
    case torch::kBFloat16:
      return ncclBfloat16;
    case torch::kInt64:
      return ncclInt64;
    case torch::kInt32:
      return ncclInt32;
    case torch::kInt8:
      return ncclInt8;
    case torch::kUInt8:
      return ncclUint8;
    case torch::kBool:
      return ncclUint8;
    default:
      fail("NCCL backend: unsupported dtype " + std::string(c10::toString(t.scalar_type())), "comm",
           "send float, integer or bool tensors");
  }
}

// Seconds a collective may take before the communicator is aborted (a dead peer otherwise
// blocks forever): DNAS_NCCL_TIMEOUT_S, default 1800.
double collective_timeout_s() {
  const char* v = std::getenv("DNAS_NCCL_TIMEOUT_S");
  const double s = v ? std::atof(v) : 0.0;
  return s > 0 ? s : 1800.0;
}

}  // namespace

struct NcclComm::Impl {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;  // the legacy default stream, which libtorch kernels use too
};

NcclComm::UniqueId NcclComm::create_unique_id() {
  ncclUniqueId id;
  DNAS_NCCL_CHECK(ncclGetUniqueId(&id));
  UniqueId out;
  std::memcpy(out.data(), &id, sizeof id);
  return out;
}

NcclComm::NcclComm(const UniqueId& id, int rank, int size, int device) : impl_(std::make_unique<Impl>()) {
  DNAS_CUDA_CHECK(cudaSetDevice(device));
  ncclUniqueId nid;
  std::memcpy(&nid, id.data(), sizeof nid);
  DNAS_NCCL_CHECK(ncclCommInitRank(&impl_->comm, size, nid, rank));
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  if (rank == 0) spdlog::info("NCCL {} on {} ranks; CUDA runtime {}, driver {}", version(), size, runtime, driver);
}

NcclComm::~NcclComm() {
  if (impl_ && impl_->comm) ncclCommDestroy(impl_->comm);
}

// Waits for the stream while polling the communicator's asynchronous error; on an error or
// after the timeout the communicator is aborted (freeing the blocked kernels) and this throws.
void NcclComm::wait(const char* call) {
  const auto start = std::chrono::steady_clock::now();
  const double timeout = collective_timeout_s();
  for (;;) {
    const cudaError_t done = cudaStreamQuery(impl_->stream);
    if (done == cudaSuccess) return;
    if (done != cudaErrorNotReady) DNAS_CUDA_CHECK(done);
    ncclResult_t async = ncclSuccess;
    DNAS_NCCL_CHECK(ncclCommGetAsyncError(impl_->comm, &async));
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (async != ncclSuccess || waited > timeout) {
      ncclCommAbort(impl_->comm);
      impl_->comm = nullptr;
      fail(std::string(call) + (async != ncclSuccess ? std::string(" failed: ") + ncclGetErrorString(async)
                                                     : " timed out after " + std::to_string(waited) + " s"),
           where(__FILE__, __LINE__), "a peer rank died or hangs; DNAS_NCCL_TIMEOUT_S sets the timeout");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void NcclComm::all_reduce_sum(const torch::Tensor& flat) {
  if (!impl_->comm) fail("the NCCL communicator was aborted after an earlier error", "NCCL", "restart the run");
  DNAS_NCCL_CHECK(ncclAllReduce(flat.data_ptr(), flat.data_ptr(), static_cast<size_t>(flat.numel()), nccl_type(flat),
                                ncclSum, impl_->comm, impl_->stream));
  wait("ncclAllReduce");
}

void NcclComm::broadcast(const torch::Tensor& flat, int root) {
  if (!impl_->comm) fail("the NCCL communicator was aborted after an earlier error", "NCCL", "restart the run");
  DNAS_NCCL_CHECK(ncclBroadcast(flat.data_ptr(), flat.data_ptr(), static_cast<size_t>(flat.numel()), nccl_type(flat),
                                root, impl_->comm, impl_->stream));
  wait("ncclBroadcast");
}

int NcclComm::version() {
  int v = 0;
  ncclGetVersion(&v);
  return v;
}

}  // namespace dnas::comm::detail
