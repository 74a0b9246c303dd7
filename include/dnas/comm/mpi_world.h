#pragma once
// The MPI side of a process, for the sweep: rank and size of MPI_COMM_WORLD, a barrier, sums,
// and a shared counter from which groups of ranks draw experiment indices (first free group
// takes the next one). A process started without mpirun is rank 0 of 1, so callers never
// branch on it. Only the comm module includes mpi.h.
#include <cstdint>
#include <memory>
#include <string>

namespace dnas::comm {

class MpiWorld {
 public:
  // Initialises MPI (MPI_THREAD_FUNNELED) on first use; finalised at process exit.
  static MpiWorld& get();
  int rank() const { return rank_; }
  int size() const { return size_; }
  void barrier();
  double sum(double value);  // all-reduce over every rank
  double max(double value);
  // Aborts every rank (after an error on one, so the others do not hang in a collective).
  [[noreturn]] void abort(int code);

 private:
  MpiWorld();
  int rank_ = 0, size_ = 1;
};

// A counter living on rank 0 that any rank can fetch-and-increment without rank 0's help
// (MPI one-sided atomics). Construction and destruction are collective over MPI_COMM_WORLD.
class SharedCounter {
 public:
  SharedCounter();
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  int64_t fetch_add(int64_t increment = 1);  // returns the value before the increment

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnas::comm
