#pragma once
// The ranks that run one experiment data-parallel: every rank walks the same global batches,
// takes its shard, and the group averages gradients every step. Backends: MPI for CPU
// tensors; NCCL for CUDA tensors when dnas was built with NCCL (chosen per call from the
// tensors' device). A process outside any group uses solo_group(): size 1, no communication.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dnas::comm {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;  // within the group
  virtual int size() const = 0;

  // Replaces every defined tensor by its mean over the group, in place. Tensors are packed
  // by dtype and device into buckets of at most bucket_bytes(), one all-reduce per bucket.
  virtual void average(const std::vector<torch::Tensor>& tensors) = 0;
  // Overwrites every defined tensor with its value on group rank `root`.
  virtual void broadcast(const std::vector<torch::Tensor>& tensors, int root) = 0;
  // Element-wise sums of `values` over the group.
  virtual std::vector<double> sum(const std::vector<double>& values) = 0;
  virtual void barrier() = 0;

  // True on every rank when `flag` is true on any rank (e.g. a stop request seen by one).
  bool any(bool flag) { return size() > 1 ? sum({flag ? 1.0 : 0.0})[0] > 0 : flag; }
  bool leader() const { return rank() == 0; }  // the one rank that writes the group's files

  void set_bucket_bytes(int64_t bytes) { bucket_bytes_ = bytes; }
  int64_t bucket_bytes() const { return bucket_bytes_; }
  int64_t collectives() const { return collectives_; }  // all-reduce/broadcast calls so far

 protected:
  int64_t bucket_bytes_ = 25 << 20;  // as PyTorch DDP
  int64_t collectives_ = 0;
};

// The group of one process.
std::shared_ptr<ProcessGroup> solo_group();

// Splits MPI_COMM_WORLD into consecutive groups of `ranks_per_group` ranks (world rank r is in
// group r / ranks_per_group). Collective over the world; the world size must be a multiple.
std::shared_ptr<ProcessGroup> split_world(int ranks_per_group);

// A group of every rank that always communicates, even in a world of one rank (where
// split_world gives the silent solo group): the GPU check of the NCCL backend uses it.
std::shared_ptr<ProcessGroup> mpi_group_of_world();

// Index of this process among those on its node (for choosing a GPU), found once at start-up:
// calling it makes no collective.
int local_rank();

// "mpi", "mpi+nccl": what this build can use.
std::string available_backends();

// Throws a clear error naming `what` when `tensors` differ anywhere between the group's ranks
// (compared bit for bit against rank 0's copy).
void check_identical(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, const std::string& what);

}  // namespace dnas::comm
