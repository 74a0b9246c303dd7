#include "dnas/comm/mpi_world.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "dnas/core/build_info.h"
#include "dnas/core/error.h"
#include "dnas/core/file_lock.h"
#include "dnas/core/signals.h"
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

MpiWorld::MpiWorld() : host_(core::host_name()) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    DNAS_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    std::atexit(finalize_at_exit);
    core::install_stop_handlers();  // Open MPI's start-up resets SIGINT to its default
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  DNAS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  DNAS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  MPI_Comm node;
  DNAS_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  DNAS_MPI_CHECK(MPI_Comm_rank(node, &local_rank_));
  DNAS_MPI_CHECK(MPI_Comm_size(node, &local_size_));
  MPI_Comm_free(&node);
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

void abort_job_if_multi_rank(const std::string& what, int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return;
  auto& world = MpiWorld::get();
  if (world.size() == 1) return;
  std::fprintf(stderr, "dnas: rank %d on %s: error: %s (ending the job: the other ranks may be waiting for this one)\n",
               world.rank(), world.host().c_str(), what.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void check_slurm_wiring() {
  const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  if (tasks == nullptr || std::atoi(tasks) <= 1) return;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return;  // started by mpirun: its -np decides
  // srun wires its tasks into one world through PMIx (or PMI-2); without either, each task would
  // start a world of its own. Checked before MPI starts, which may hang or fail unwired.
  const bool wired = std::getenv("PMIX_RANK") != nullptr || std::getenv("PMI_RANK") != nullptr;
  if (wired && MpiWorld::get().size() > 1) return;
  fail(std::string("this Slurm job step has ") + tasks +
           " tasks but they are not one MPI world: each would run "
           "the same work",
       "srun",
       "launch with `srun --mpi=pmix` (Open MPI 4; `srun --mpi=list` shows what this Slurm offers) or with "
       "mpirun inside the allocation");
}

struct SharedCounter::Impl {
  MPI_Win window = MPI_WIN_NULL;
  int64_t* value = nullptr;
  std::string file;  // the fallback counter when there is no window
};

namespace {

// fetch-and-add on an 8-byte counter file, under an exclusive flock.
int64_t file_fetch_add(const std::string& path, int64_t increment) {
  core::FileLock lock(
      path,
      {"cannot open the experiment counter", "the study's out_dir must be on a file system every rank shares",
       "cannot update the experiment counter", core::kFlockHint},
      core::FileLock::IfMissing::Fail);
  lock.lock();
  int64_t before = 0;
  const bool ok = ::pread(lock.fd(), &before, sizeof before, 0) == sizeof before && [&] {
    const int64_t after = before + increment;
    return ::pwrite(lock.fd(), &after, sizeof after, 0) == sizeof after && ::fsync(lock.fd()) == 0;
  }();
  const int err = errno;
  if (!ok)
    fail(std::string("cannot update the experiment counter (") + std::strerror(err) + ")", path, core::kFlockHint);
  return before;
}

}  // namespace

SharedCounter::SharedCounter(const std::string& fallback_file) : impl_(std::make_unique<Impl>()) {
  auto& world = MpiWorld::get();
  const MPI_Aint bytes = world.rank() == 0 ? static_cast<MPI_Aint>(sizeof(int64_t)) : 0;
  int ok = MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &impl_->value, &impl_->window) ==
           MPI_SUCCESS;
  DNAS_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (ok) {
    if (world.rank() == 0) *impl_->value = 0;
    world.barrier();
    DNAS_MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, impl_->window));
    return;
  }
  impl_->window = MPI_WIN_NULL;  // a window some ranks got is left to MPI_Finalize
  impl_->file = fallback_file;
  if (world.rank() == 0) {
    const int64_t zero = 0;
    const int fd = ::open(fallback_file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const bool written = fd >= 0 && ::pwrite(fd, &zero, sizeof zero, 0) == sizeof zero && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!written)
      fail("cannot create the experiment counter", fallback_file, "check that the study's out_dir is writable");
    spdlog::warn("MPI cannot create a one-sided window here; experiments are drawn through {} (flock)", fallback_file);
  }
  world.barrier();
}

SharedCounter::~SharedCounter() {
  if (impl_->window == MPI_WIN_NULL || std::uncaught_exceptions() > 0) return;
  MPI_Win_unlock_all(impl_->window);
  MPI_Win_free(&impl_->window);
}

int64_t SharedCounter::fetch_add(int64_t increment) {
  if (impl_->window == MPI_WIN_NULL) return file_fetch_add(impl_->file, increment);
  int64_t before = 0;
  DNAS_MPI_CHECK(MPI_Fetch_and_op(&increment, &before, MPI_INT64_T, 0, 0, MPI_SUM, impl_->window));
  DNAS_MPI_CHECK(MPI_Win_flush(0, impl_->window));
  return before;
}

void SharedCounter::poke_progress() {
  int flag = 0;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
}

}  // namespace dnas::comm
