#include "dnas/sweep/experiment.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "dnas/comm/mpi_world.h"
#include "dnas/core/error.h"
#include "dnas/core/hash.h"
#include "dnas/core/signals.h"
#include "dnas/search/search_loop.h"
#include "dnas/search/search_results.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/train/train_results.h"
#include "dnas/train/trainer.h"

namespace dnas::sweep {
namespace {

namespace fs = std::filesystem;

bool finished(const std::string& results_file) {
  if (!fs::exists(results_file)) return false;
  try {
    store::H5File f(results_file, store::H5File::Mode::Read);
    return f.has_attribute("/", "status") && f.string_attribute("/", "status") == "finished";
  } catch (const Error& e) {
    spdlog::warn("sweep: {} is damaged ({}); the experiment runs again", results_file, e.what());
    return false;
  }
}

// The leader's answer to a yes/no question about shared files, on every rank of the group: the
// ranks must agree (e.g. on whether to resume) even while the leader is writing those files.
bool leader_decides(comm::ProcessGroup& group, bool answer) {
  if (group.size() == 1) return answer;
  return group.sum({group.leader() && answer ? 1.0 : 0.0})[0] > 0;
}

struct Outcome {
  std::optional<search::SearchResult> search;
  std::vector<std::pair<uint64_t, train::TrainResult>> trains;
  int64_t layers = 0, channels = 0;  // of the retrained network, as run
  std::string status = "finished", error;
};

// The evaluation protocol in one line, so a table row says how its numbers were produced.
std::string protocol(const Experiment& e, const Outcome& o) {
  const auto& t = e.train;
  std::string p = e.search ? e.search->data.dataset : t.data.dataset;
  if (e.search)
    p += fmt::format("; search {} ep L{} C{} on {}", e.search->optim.epochs, e.search->supernet.layers,
                     e.search->supernet.channels, e.search->run.device);
  p += fmt::format("; retrain {} ep L{} C{}", t.optim.epochs, o.layers > 0 ? o.layers : t.model.layers,
                   o.channels > 0 ? o.channels : t.model.channels);
  if (t.model.genotype_epoch > 0) p += fmt::format(" cell@ep{}", t.model.genotype_epoch);
  if (t.model.auxiliary) p += " aux";
  if (t.data.cutout > 0) p += " cutout";
  if (t.model.drop_path > 0) p += fmt::format(" dp{:g}", t.model.drop_path);
  p += t.optim.select == "best_val" ? "; best-val" : "; final-epoch";
  return p + fmt::format("; {} eval seed{}", e.eval_seeds.size(), e.eval_seeds.size() == 1 ? "" : "s");
}

void write_experiment(const Experiment& e, const std::string& path, const Outcome& o, int devices) {
  store::write_atomically(path, [&](store::H5File& f) {
    std::string config = e.search ? e.search->run.config_text : std::string();
    config += (config.empty() ? "" : "\n") + e.train.run.config_text;
    store::write_provenance(f, {"experiment", o.status, o.error, config});
    f.set_attribute("/", "id", e.id);
    for (const auto& [key, value] : e.grid) f.set_attribute("/", "grid." + key, value);
    f.set_attribute("/", "devices", static_cast<int64_t>(devices));
    f.set_attribute("/", "protocol", protocol(e, o));
    f.set_attribute("/", "dataset", e.search ? e.search->data.dataset : e.train.data.dataset);
    f.set_attribute("/", "method", e.search ? e.search->run.method : "published " + e.train.model.genotype);
    double search_seconds = 0.0, train_seconds = 0.0;
    if (o.search) {
      search_seconds = o.search->seconds;
      search::write_search_results(f, "/search", *o.search, e.search->run.method);
      f.set_attribute("/", "search_seed", static_cast<int64_t>(e.search->run.seed));
      f.set_attribute("/", "layers", e.search->supernet.layers);
      f.set_attribute("/", "genotype", genotype::to_string(o.search->genotype));
      f.set_attribute("/", "genotype_hash", genotype::genotype_hash(o.search->genotype));
    } else {
      f.set_attribute("/", "genotype", e.train.model.genotype);
    }
    std::vector<double> test_acc;
    for (const auto& [seed, r] : o.trains) {
      train::write_train_results(f, "/train/seed" + std::to_string(seed), r);
      train_seconds += r.seconds;
      test_acc.push_back(r.test_acc);
    }
    if (!o.trains.empty()) {
      const auto& r = o.trains.front().second;
      f.write_tensor("/test_acc", torch::tensor(test_acc, torch::kFloat64));
      f.set_attribute("/", "parameters", r.cost.parameters);
      f.set_attribute("/", "multiply_adds", r.cost.multiply_adds);
      f.set_attribute("/", "skip_connections_normal", static_cast<int64_t>(genotype::count_op(r.genotype.normal, "skip_connect")));
      f.set_attribute("/", "skip_connections_reduce", static_cast<int64_t>(genotype::count_op(r.genotype.reduce, "skip_connect")));
      if (!o.search) f.set_attribute("/", "genotype_hash", genotype::genotype_hash(r.genotype));
    }
    f.set_attribute("/", "search_seconds", search_seconds);
    f.set_attribute("/", "search_gpu_days", search_seconds * devices / 86400.0);
    f.set_attribute("/", "train_seconds", train_seconds);
  });
}

// A search config's text without the [run] keys that cannot change its results (threads,
// out_dir, logging, test stops; the device stays): what names a shared search and tells
// whether a finished one is this one, so a resumed sweep with other run settings finds it.
std::string search_identity(const std::string& config_text) {
  std::istringstream in(config_text);
  std::string line, out, section;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '[') section = line;
    else if (section == "[run]" && line.rfind("device", 0) != 0) continue;
    out += line + "\n";
  }
  return out;
}

// A finished search's results file written for this search (same identity).
bool finished_search(const std::string& results_file, const std::string& config_text) {
  if (!finished(results_file)) return false;
  try {
    store::H5File f(results_file, store::H5File::Mode::Read);
    return f.has_attribute("/", "config") &&
           search_identity(f.string_attribute("/", "config")) == search_identity(config_text);
  } catch (const Error&) {
    return false;
  }
}

// A stable name for a search config: experiments that differ only in their retrain settings
// run the same search, once, in out_dir/searches/<name>.
std::string search_name(const search::SearchConfig& c) {
  return c.run.method + "_" + core::fnv1a_hex(search_identity(c.run.config_text));
}

// An exclusive lock on a file (flock), held by the group's leader while it runs a shared search;
// another experiment needing the same search waits (polling, so that a stop request ends the
// wait), then reuses the finished record.
class FileLock {
 public:
  FileLock(const std::string& path, bool take) {
    if (!take) return;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot open the lock file", path, "check that the study's out_dir is writable");
    for (bool told = false; ::flock(fd_, LOCK_EX | LOCK_NB) != 0;) {
      if (errno != EWOULDBLOCK && errno != EINTR)
        fail(std::string("cannot lock (") + std::strerror(errno) + ")", path,
             "the study's out_dir must be on a file system with flock (on Lustre: mount with -o flock)");
      if (!told) spdlog::info("sweep: waiting for {} (another experiment is running that search)", path);
      told = true;
      if (core::stop_requested()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    held_ = true;
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  // False when the wait ended on a stop request.
  bool held() const { return held_; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
  bool held_ = false;
};

}  // namespace

std::string experiment_file(const std::string& out_dir, const std::string& id) {
  return (fs::path(out_dir) / (id + ".h5")).string();
}

ExperimentStatus run_experiment(const Experiment& e, const std::string& out_dir,
                                std::shared_ptr<comm::ProcessGroup> group_ptr) {
  auto& group = *group_ptr;
  const int devices = group.size();
  const auto path = experiment_file(out_dir, e.id);
  if (leader_decides(group, finished(path))) {
    spdlog::info("sweep: {} already finished, skipped", e.id);
    return ExperimentStatus::Skipped;
  }
  const fs::path dir = fs::path(out_dir) / e.id;
  if (group.leader()) fs::create_directories(dir);
  Outcome o;
  try {
    if (e.search) {
      auto sc = *e.search;
      const fs::path shared = fs::path(out_dir) / "searches" / search_name(sc);
      const fs::path legacy = dir / "search";  // studies started by earlier versions
      const bool use_legacy = leader_decides(group, fs::exists(legacy / "checkpoint.h5"));
      sc.run.out_dir = (use_legacy ? legacy : shared).string();
      if (group.leader()) fs::create_directories(shared.parent_path());
      const bool take_lock = group.leader() && !use_legacy;
      FileLock lock(shared.string() + ".lock", take_lock);
      if (leader_decides(group, take_lock && !lock.held())) throw core::Interrupted{};
      // Shared searches of the first version were named by the whole config text.
      const fs::path first_name = shared.parent_path() / (sc.run.method + "_" + core::fnv1a_hex(sc.run.config_text));
      if (take_lock && first_name != shared && !fs::exists(shared) && fs::exists(first_name / "checkpoint.h5"))
        fs::rename(first_name, shared);
      const auto results = fs::path(sc.run.out_dir) / "results.h5";
      if (leader_decides(group, finished_search(results.string(), sc.run.config_text))) {
        // Another experiment ran this search: its record, not a resumed no-op run.
        store::H5File f(results.string(), store::H5File::Mode::Read);
        o.search = search::read_search_results(f, "/search");
        spdlog::info("sweep: {} reuses the finished search {}", e.id, sc.run.out_dir);
      } else {
        sc.run.resume = leader_decides(group, fs::exists(fs::path(sc.run.out_dir) / "checkpoint.h5"));
        sc.run.overwrite = !sc.run.resume;  // the study owns its work dirs: a failed attempt is replaced
        o.search = search::run_search(sc, group_ptr);
      }
    }
    for (uint64_t seed : e.eval_seeds) {
      auto tc = e.train;
      tc.run.seed = seed;
      tc.run.out_dir = (dir / ("train_seed" + std::to_string(seed))).string();
      tc.run.resume = leader_decides(group, fs::exists(fs::path(tc.run.out_dir) / "checkpoint.h5"));
      tc.run.overwrite = !tc.run.resume;
      if (o.search) {  // the searched cell from memory: no rank reads a file the leader has just written
        const int64_t epoch = tc.model.genotype_epoch, epochs = static_cast<int64_t>(o.search->epochs.size());
        if (epoch > epochs)
          fail_on_every_rank("model.genotype_epoch = " + std::to_string(epoch) + " but the search has " +
                                 std::to_string(epochs) + " epochs",
                             "retrain.model.genotype_epoch", "use an epoch from 1 to the search's epochs (0 = the final cell)");
        tc.model.genotype = epoch > 0 ? o.search->epochs[static_cast<size_t>(epoch - 1)].genotype
                                      : genotype::to_string(o.search->genotype);
        tc.model.genotype_epoch = 0;
      }
      if (e.eval_layers_from_search && e.search) tc.model.layers = e.search->supernet.layers;
      o.trains.emplace_back(seed, train::run_training(tc, group_ptr));
      o.layers = tc.model.layers;
      o.channels = o.trains.back().second.channels;
    }
  } catch (const core::Interrupted&) {
    throw;  // the running phase checkpointed; the experiment resumes on the next sweep
  } catch (const std::exception& ex) {
    // On one rank of a group only (a leader's file write), the others wait in a collective.
    if (group.size() > 1 && dynamic_cast<const GroupError*>(&ex) == nullptr)
      comm::abort_job_if_multi_rank("experiment " + e.id + ": " + ex.what(), 2);
    o.status = "failed";
    o.error = ex.what();
    spdlog::error("sweep: {} failed: {}", e.id, ex.what());
  }
  if (group.leader()) write_experiment(e, path, o, devices);
  return o.status == "finished" ? ExperimentStatus::Finished : ExperimentStatus::Failed;
}

}  // namespace dnas::sweep
