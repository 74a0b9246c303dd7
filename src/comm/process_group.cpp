#include "dnas/comm/process_group.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <map>

#include "dnas/comm/mpi_world.h"
#include "dnas/core/error.h"
#include "mpi_check.h"
#ifdef DNAS_HAVE_NCCL
#include "nccl_comm.h"
#endif

namespace dnas::comm {
namespace {

class SoloGroup : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void average(const std::vector<torch::Tensor>&) override {}
  void broadcast(const std::vector<torch::Tensor>&, int) override {}
  std::vector<double> sum(const std::vector<double>& values) override { return values; }
  void barrier() override {}
};

MPI_Datatype mpi_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat:
      return MPI_FLOAT;
    case torch::kDouble:
      return MPI_DOUBLE;
    case torch::kInt64:
      return MPI_INT64_T;
    case torch::kInt32:
      return MPI_INT32_T;
    case torch::kUInt8:
      return MPI_UINT8_T;
    default:
      fail(fmt::format("MPI backend: unsupported dtype {}", c10::toString(t.scalar_type())), "comm",
           "communicate float, double or integer tensors");
  }
}

// Tensors of one dtype and device, packed into one contiguous buffer per collective.
struct Bucket {
  std::vector<torch::Tensor> members;
  int64_t bytes = 0;
};

std::string bucket_key(const torch::Tensor& t) {
  return std::string(c10::toString(t.scalar_type())) + "@" + t.device().str();
}

class MpiGroup : public ProcessGroup {
 public:
  MpiGroup(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    DNAS_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    DNAS_MPI_CHECK(MPI_Comm_size(comm_, &size_));
  }
  ~MpiGroup() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void average(const std::vector<torch::Tensor>& tensors) override {
    for (const auto& t : tensors)
      if (t.defined() && !t.is_floating_point())
        fail("only floating-point tensors can be averaged", "comm::ProcessGroup::average", "");
    for_each_bucket(tensors, [&](const torch::Tensor& flat) {
      all_reduce_sum(flat);
      flat.div_(size_);
    });
  }

  void broadcast(const std::vector<torch::Tensor>& tensors, int root) override {
    for_each_bucket(tensors, [&](const torch::Tensor& flat) {
      if (flat.is_cuda()) {
        nccl_or_fail(flat.device().index()).broadcast(flat, root);
      } else {
        DNAS_MPI_CHECK(MPI_Bcast(flat.data_ptr(), static_cast<int>(flat.numel()), mpi_type(flat), root, comm_));
      }
    });
  }

  std::vector<double> sum(const std::vector<double>& values) override {
    std::vector<double> out(values.size());
    DNAS_MPI_CHECK(
        MPI_Allreduce(values.data(), out.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, comm_));
    return out;
  }

  void barrier() override { DNAS_MPI_CHECK(MPI_Barrier(comm_)); }

 private:
  // Packs the defined tensors into buckets (same dtype and device, at most bucket_bytes_ each,
  // in order), runs `op` on each packed buffer and unpacks the result into the tensors.
  template <class Op>
  void for_each_bucket(const std::vector<torch::Tensor>& tensors, Op op) {
    torch::NoGradGuard no_grad;
    std::map<std::string, Bucket> open;
    auto flush = [&](Bucket& b) {
      if (b.members.empty()) return;
      std::vector<torch::Tensor> flat;
      for (const auto& t : b.members) flat.push_back(t.detach().reshape(-1));
      auto buffer = torch::cat(flat).contiguous();
      op(buffer);
      ++collectives_;
      int64_t offset = 0;
      for (const auto& t : b.members) {
        t.detach().copy_(buffer.narrow(0, offset, t.numel()).view(t.sizes()));
        offset += t.numel();
      }
      b = {};
    };
    for (const auto& t : tensors) {
      if (!t.defined()) continue;
      auto& b = open[bucket_key(t)];
      const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
      if (!b.members.empty() && b.bytes + bytes > bucket_bytes_) flush(b);
      b.members.push_back(t);
      b.bytes += bytes;
    }
    for (auto& [key, b] : open) flush(b);
  }

  void all_reduce_sum(const torch::Tensor& flat) {
    if (flat.is_cuda()) {
      nccl_or_fail(flat.device().index()).all_reduce_sum(flat);
      return;
    }
    DNAS_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr(), static_cast<int>(flat.numel()), mpi_type(flat), MPI_SUM, comm_));
  }

#ifdef DNAS_HAVE_NCCL
  // The NCCL communicator, created on first use on the GPU of the first tensor it moves (the
  // run's device): rank 0's unique id goes out over MPI.
  detail::NcclComm& nccl_or_fail(int device) {
    if (!nccl_) {
      detail::NcclComm::UniqueId id{};
      if (rank_ == 0) id = detail::NcclComm::create_unique_id();
      DNAS_MPI_CHECK(MPI_Bcast(id.data(), static_cast<int>(id.size()), MPI_BYTE, 0, comm_));
      nccl_ = std::make_unique<detail::NcclComm>(id, rank_, size_, device);
    }
    return *nccl_;
  }
  std::unique_ptr<detail::NcclComm> nccl_;
#else
  struct NoNccl {
    [[noreturn]] void fail_() {
      fail("CUDA tensors need the NCCL backend, which this build lacks", "comm",
           "rebuild with CUDA's NCCL found by CMake (NCCL_INCLUDE_DIR, NCCL_LIBRARY)");
    }
    void all_reduce_sum(const torch::Tensor&) { fail_(); }
    void broadcast(const torch::Tensor&, int) { fail_(); }
  } no_nccl_;
  NoNccl& nccl_or_fail(int) { return no_nccl_; }
#endif

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

std::shared_ptr<ProcessGroup> solo_group() { return std::make_shared<SoloGroup>(); }

std::shared_ptr<ProcessGroup> split_world(int ranks_per_group) {
  auto& world = MpiWorld::get();
  if (ranks_per_group < 1 || world.size() % ranks_per_group != 0)
    fail(fmt::format("{} ranks cannot be split into groups of {}", world.size(), ranks_per_group),
         "study.ranks_per_experiment", "launch a multiple of ranks_per_experiment ranks (mpirun -np / srun -n)");
  if (ranks_per_group == 1) return solo_group();
  MPI_Comm comm;
  DNAS_MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, world.rank() / ranks_per_group, world.rank(), &comm));
  return std::make_shared<MpiGroup>(comm);
}

std::shared_ptr<ProcessGroup> mpi_group_of_world() {
  MpiWorld::get();
  MPI_Comm comm;
  DNAS_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
  return std::make_shared<MpiGroup>(comm);
}

int local_rank() { return MpiWorld::get().local_rank(); }

std::string available_backends() {
#ifdef DNAS_HAVE_NCCL
  return "mpi+nccl";
#else
  return "mpi";
#endif
}

void check_identical(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, const std::string& what) {
  if (group.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> leader;
  for (const auto& t : tensors) leader.push_back(t.detach().clone());
  group.broadcast(leader, 0);
  double worst = 0.0;
  int64_t first_bad = -1;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (torch::equal(leader[i], tensors[i].detach())) continue;
    worst = std::max(worst, (leader[i] - tensors[i].detach()).abs().max().item<double>());
    if (first_bad < 0) first_bad = static_cast<int64_t>(i);
  }
  auto totals = group.sum({first_bad >= 0 ? 1.0 : 0.0});
  if (totals[0] > 0)
    fail(fmt::format("{} differ between the ranks of a data-parallel group ({} of {} ranks disagree with rank 0{})",
                     what, totals[0], group.size(),
                     first_bad >= 0 ? fmt::format("; here tensor {} differs by up to {:.3g}", first_bad, worst) : ""),
         fmt::format("group rank {}", group.rank()),
         "every rank must see the same seed, config and averaged gradients; report this as a bug");
}

}  // namespace dnas::comm
