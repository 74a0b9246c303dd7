#include "dnas/comm/mpi_world.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "dnas/core/error.h"
#include "mpi_check.h"

namespace dnas::comm {
namespace detail {

void check_mpi(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  fail(std::string(call) + " failed: " + std::string(text, static_cast<size_t>(len)),
       std::string(host) + " rank " + std::to_string(rank) + " " + file + ":" + std::to_string(line),
       "check the MPI launch (mpirun/srun) and the network");
}

}  // namespace detail

namespace {

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

MpiWorld& MpiWorld::get() {
  static MpiWorld world;
  return world;
}

MpiWorld::MpiWorld() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    DNAS_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    std::atexit(finalize_at_exit);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  DNAS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  DNAS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
}

void MpiWorld::barrier() { DNAS_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

double MpiWorld::sum(double value) {
  double total = 0.0;
  DNAS_MPI_CHECK(MPI_Allreduce(&value, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  return total;
}

double MpiWorld::max(double value) {
  double out = 0.0;
  DNAS_MPI_CHECK(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  return out;
}

void MpiWorld::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

struct SharedCounter::Impl {
  MPI_Win window = MPI_WIN_NULL;
  int64_t* value = nullptr;
};

SharedCounter::SharedCounter() : impl_(std::make_unique<Impl>()) {
  auto& world = MpiWorld::get();
  const MPI_Aint bytes = world.rank() == 0 ? static_cast<MPI_Aint>(sizeof(int64_t)) : 0;
  DNAS_MPI_CHECK(MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &impl_->value,
                                  &impl_->window));
  if (world.rank() == 0) {
    DNAS_MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, impl_->window));
    *impl_->value = 0;
    DNAS_MPI_CHECK(MPI_Win_unlock(0, impl_->window));
  }
  world.barrier();
}

SharedCounter::~SharedCounter() {
  if (impl_->window != MPI_WIN_NULL) MPI_Win_free(&impl_->window);
}

int64_t SharedCounter::fetch_add(int64_t increment) {
  int64_t before = 0;
  DNAS_MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, impl_->window));
  DNAS_MPI_CHECK(MPI_Fetch_and_op(&increment, &before, MPI_INT64_T, 0, 0, MPI_SUM, impl_->window));
  DNAS_MPI_CHECK(MPI_Win_unlock(0, impl_->window));
  return before;
}

}  // namespace dnas::comm
