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
  // Initialises MPI (MPI_THREAD_FUNNELED) on first use; finalised at process exit. Also finds
  // this process's index among the ranks of its node (one collective, here and never again).
  static MpiWorld& get();
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // index among the ranks on this node
  int local_size() const { return local_size_; }
  const std::string& host() const { return host_; }
  void barrier();
  double sum(double value);  // all-reduce over every rank
  double max(double value);

 private:
  MpiWorld();
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::string host_;
};

// Ends the whole job after an error that other ranks may not share (they could be waiting in a
// collective): prints one line "dnas: rank R on HOST: error: WHAT" and calls MPI_Abort. Without
// MPI, or in a world of one rank, it only returns: the caller reports the error itself.
void abort_job_if_multi_rank(const std::string& what, int code);

// Under Slurm, a job step of several tasks that are not one MPI world was launched without the
// MPI wiring (srun without --mpi=pmix): every task would run the same work. Throws then. Call
// it before MPI starts (an unwired start may hang).
void check_slurm_wiring();

// A counter living on rank 0 that any rank can fetch-and-increment without rank 0's help
// (MPI one-sided atomics in a passive-target epoch held open for the counter's lifetime).
// Where the MPI library cannot create the window (Open MPI 4 over TCP between nodes has no
// one-sided component), the counter is `fallback_file` instead, incremented under flock (a
// study's directory is on a file system every rank shares). Construction and destruction are
// collective over MPI_COMM_WORLD; every rank must reach the destructor (it is skipped while an
// exception unwinds, so an error cannot hang the others).
class SharedCounter {
 public:
  explicit SharedCounter(const std::string& fallback_file);
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  int64_t fetch_add(int64_t increment = 1);  // returns the value before the increment
  // Lets the MPI library serve other ranks' draws on this rank's window (rank 0 may compute for
  // hours without an MPI call, and MPIs without hardware atomics progress only inside calls).
  void poke_progress();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnas::comm
