#pragma once
// NCCL collectives on CUDA tensors, for a ProcessGroup whose tensors live on GPUs. Compiled
// only when CMake found CUDA's NCCL (DNAS_HAVE_NCCL); the communicator is bootstrapped by the
// group broadcasting rank 0's unique id over MPI.
#include <torch/types.h>

#include <array>
#include <memory>

namespace dnas::comm::detail {

class NcclComm {
 public:
  using UniqueId = std::array<char, 128>;  // NCCL_UNIQUE_ID_BYTES
  static UniqueId create_unique_id();      // on one rank, then broadcast to the group
  // Binds this process to GPU `device` (the run's, see device.h), then joins the communicator.
  NcclComm(const UniqueId& id, int rank, int size, int device);
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  void all_reduce_sum(const torch::Tensor& flat);  // contiguous, on this process's GPU
  void broadcast(const torch::Tensor& flat, int root);
  static int version();  // NCCL_VERSION_CODE of the loaded library

 private:
  void wait(const char* call);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnas::comm::detail
