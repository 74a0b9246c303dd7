#include "nccl_comm.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstring>
#include <string>

#include "dnas/core/error.h"

namespace dnas::comm::detail {
namespace {

static_assert(sizeof(ncclUniqueId) == sizeof(NcclComm::UniqueId), "NCCL unique id size");

void check_nccl(ncclResult_t r, const char* call) {
  if (r != ncclSuccess)
    fail(std::string(call) + " failed: " + ncclGetErrorString(r), "NCCL",
         "check NCCL_DEBUG=INFO output and that every rank of the group sees a GPU");
}

void check_cuda(cudaError_t r, const char* call) {
  if (r != cudaSuccess)
    fail(std::string(call) + " failed: " + cudaGetErrorString(r), "CUDA", "check CUDA_VISIBLE_DEVICES and the driver");
}

ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat: return ncclFloat32;
    case torch::kDouble: return ncclFloat64;
    case torch::kHalf: return ncclFloat16;
    case torch::kBFloat16: return ncclBfloat16;
    default: fail("NCCL backend: unsupported dtype " + std::string(c10::toString(t.scalar_type())), "comm",
                  "average only floating-point tensors");
  }
}

}  // namespace

struct NcclComm::Impl {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;  // the legacy default stream, which libtorch kernels use too
};

NcclComm::UniqueId NcclComm::create_unique_id() {
  ncclUniqueId id;
  check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  UniqueId out;
  std::memcpy(out.data(), &id, sizeof id);
  return out;
}

NcclComm::NcclComm(const UniqueId& id, int rank, int size, int device) : impl_(std::make_unique<Impl>()) {
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
  ncclUniqueId nid;
  std::memcpy(&nid, id.data(), sizeof nid);
  check_nccl(ncclCommInitRank(&impl_->comm, size, nid, rank), "ncclCommInitRank");
}

NcclComm::~NcclComm() {
  if (impl_ && impl_->comm) ncclCommDestroy(impl_->comm);
}

void NcclComm::all_reduce_sum(const torch::Tensor& flat) {
  check_nccl(ncclAllReduce(flat.data_ptr(), flat.data_ptr(), static_cast<size_t>(flat.numel()), nccl_type(flat),
                           ncclSum, impl_->comm, impl_->stream),
             "ncclAllReduce");
  check_cuda(cudaStreamSynchronize(impl_->stream), "cudaStreamSynchronize");
}

void NcclComm::broadcast(const torch::Tensor& flat, int root) {
  check_nccl(ncclBroadcast(flat.data_ptr(), flat.data_ptr(), static_cast<size_t>(flat.numel()), nccl_type(flat), root,
                           impl_->comm, impl_->stream),
             "ncclBroadcast");
  check_cuda(cudaStreamSynchronize(impl_->stream), "cudaStreamSynchronize");
}

}  // namespace dnas::comm::detail
