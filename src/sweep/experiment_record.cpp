#include "dnas/sweep/experiment_record.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include "dnas/core/error.h"
#include "dnas/core/file_lock.h"
#include "dnas/core/hash.h"
#include "dnas/core/settings_diff.h"
#include "dnas/search/search_keys.h"
#include "dnas/search/search_results.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"
#include "dnas/train/train_results.h"

namespace dnas::sweep {
namespace {

namespace fs = std::filesystem;
namespace names = store::layout::experiment;
namespace root = store::layout::provenance;

struct Outcome {
  std::optional<search::SearchResult> search;
  std::vector<std::pair<uint64_t, train::TrainResult>> trains;
  int64_t layers = 0, channels = 0;  // of the retrained network, as run
  std::string status = root::kStatusFinished, error;
};

// The evaluation protocol in one line, so a table row says how its numbers were produced.
std::string protocol(const Experiment& e, const Outcome& o) {
  const auto& t = e.train;
  std::string p = e.search ? e.search->data.dataset : t.data.dataset;
  if (e.search)
    p += fmt::format("; search {} ep L{} C{} on {}", e.search->optim.epochs, e.search->supernet.layers,
                     e.search->supernet.channels, e.search->run.device);
  if (e.search && t.data.dataset != e.search->data.dataset) p += "; retrain on " + t.data.dataset;
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
    store::write_provenance(f, {root::kKindExperiment, o.status, o.error, config});
    f.set_attribute("/", names::kId, e.id);
    for (const auto& [key, value] : e.grid) f.set_attribute("/", names::kGridPrefix + key, value);
    f.set_attribute("/", names::kDevices, static_cast<int64_t>(devices));
    f.set_attribute("/", names::kProtocol, protocol(e, o));
    f.set_attribute("/", names::kDataset, e.search ? e.search->data.dataset : e.train.data.dataset);
    f.set_attribute("/", names::kTrainDataset, e.train.data.dataset);
    f.set_attribute("/", names::kMethod, e.search ? e.search->run.method : "published " + e.train.model.genotype);
    double search_seconds = 0.0, train_seconds = 0.0;
    if (o.search) {
      search_seconds = o.search->seconds;
      search::write_search_results(f, store::layout::search::kGroup, *o.search, e.search->run.method);
      f.set_attribute("/", names::kSearchSeed, static_cast<int64_t>(e.search->run.seed));
      f.set_attribute("/", names::kLayers, e.search->supernet.layers);
      f.set_attribute("/", names::kGenotype, genotype::to_string(o.search->genotype));
      f.set_attribute("/", names::kGenotypeHash, genotype::genotype_hash(o.search->genotype));
    } else {
      f.set_attribute("/", names::kGenotype, e.train.model.genotype);
    }
    std::vector<double> test_acc, test_top5_acc;
    for (const auto& [seed, r] : o.trains) {
      train::write_train_results(f, store::layout::train::kSeedGroupPrefix + std::to_string(seed), r);
      train_seconds += r.seconds;
      test_acc.push_back(r.test_acc);
      test_top5_acc.push_back(r.test_top5_acc);
    }
    if (!o.trains.empty()) {
      const auto& r = o.trains.front().second;
      f.write_tensor(names::kTestAcc, torch::tensor(test_acc, torch::kFloat64));
      f.write_tensor(names::kTestTop5Acc, torch::tensor(test_top5_acc, torch::kFloat64));
      f.set_attribute("/", names::kParameters, r.cost.parameters);
      f.set_attribute("/", names::kMultiplyAdds, r.cost.multiply_adds);
      f.set_attribute("/", names::kSkipConnectionsNormal,
                      static_cast<int64_t>(genotype::count_op(r.genotype.normal, "skip_connect")));
      f.set_attribute("/", names::kSkipConnectionsReduce,
                      static_cast<int64_t>(genotype::count_op(r.genotype.reduce, "skip_connect")));
      if (!o.search) f.set_attribute("/", names::kGenotypeHash, genotype::genotype_hash(r.genotype));
    }
    f.set_attribute("/", names::kSearchSeconds, search_seconds);
    f.set_attribute("/", names::kSearchGpuDays, search_seconds * devices / 86400.0);
    f.set_attribute("/", names::kTrainSeconds, train_seconds);
  });
}

std::string stored_error(const std::string& results_file) {
  store::H5File f(results_file, store::H5File::Mode::Read);
  store::check_format_version(f);
  return f.has_attribute("/", root::kError) ? f.string_attribute("/", root::kError) : std::string("(no message)");
}

// How the study's lock files report failures.
core::FileLockText study_lock_text() {
  return {"cannot open the lock file", "check that the study's out_dir is writable", "cannot lock",
          "the study's out_dir must be on a file system with flock (on Lustre: mount with -o flock)"};
}

}  // namespace

std::string search_dir(const Experiment& e, const std::string& out_dir) {
  const fs::path legacy = fs::path(out_dir) / e.id / "search";
  if (fs::exists(legacy / "checkpoint.h5")) return legacy.string();
  return (fs::path(out_dir) / "searches" /
          (e.search->run.method + "_" + core::fnv1a_hex(search::identity_text(*e.search))))
      .string();
}

void adopt_earlier_search_name(const std::string& wanted, const std::string& method, const std::string& config_text) {
  const fs::path dir = fs::path(wanted).parent_path();
  if (fs::exists(wanted) || !fs::is_directory(dir)) return;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind(method + "_", 0) != 0) continue;
    std::string stored;
    for (const auto& [file, key] :
         {std::pair<const char*, const char*>{"results.h5", root::kConfig}, {"checkpoint.h5", "text.config"}}) {
      if (!fs::exists(entry.path() / file)) continue;
      try {
        store::H5File f((entry.path() / file).string(), store::H5File::Mode::Read);
        if (std::string(file) == "results.h5") store::check_format_version(f);  // a newer dnas's: skipped
        if (f.has_attribute("/", key)) stored = f.string_attribute("/", key);
      } catch (const Error&) {
      }
      if (!stored.empty()) break;
    }
    if (stored.empty() || !core::first_setting_difference(stored, config_text).empty()) continue;
    spdlog::info("sweep: {} holds this search under an earlier version's name; renamed to {}", entry.path().string(),
                 wanted);
    fs::rename(entry.path(), wanted);
    return;
  }
}

std::string seed_dir(const Experiment& e, const std::string& out_dir, uint64_t seed) {
  return (fs::path(out_dir) / e.id / ("train_seed" + std::to_string(seed))).string();
}

std::string results_status(const std::string& results_file) {
  if (!fs::exists(results_file)) return "";
  auto damaged = [&](const Error& e) {
    spdlog::warn("sweep: {} is damaged ({}); its phase runs again", results_file, e.what());
    return std::string();
  };
  std::optional<store::H5File> f;
  try {
    f.emplace(results_file, store::H5File::Mode::Read);
  } catch (const Error& e) {
    return damaged(e);
  }
  store::check_format_version(*f);  // outside the try: a newer dnas's file is refused, never rerun
  try {
    return f->has_attribute("/", root::kStatus) ? f->string_attribute("/", root::kStatus) : std::string();
  } catch (const Error& e) {
    return damaged(e);
  }
}

bool finished_phase(const std::string& dir, const std::string& config_text) {
  const auto file = (fs::path(dir) / "results.h5").string();
  if (results_status(file) != root::kStatusFinished) return false;  // checks the format version
  try {
    store::H5File f(file, store::H5File::Mode::Read);
    return f.has_attribute("/", root::kConfig) &&
           core::first_setting_difference(f.string_attribute("/", root::kConfig), config_text).empty();
  } catch (const Error&) {
    return false;
  }
}

void record_phase_failure(const std::string& dir, const std::string& kind, const std::string& error) {
  const auto file = (fs::path(dir) / "results.h5").string();
  if (results_status(file) == root::kStatusFailed) return;
  fs::create_directories(dir);
  store::write_atomically(file, [&](store::H5File& f) {
    store::write_provenance(f, {kind, root::kStatusFailed, error, ""});
  });
}

std::string assemble_record(const Experiment& e, const std::string& out_dir, int devices) {
  const auto path = experiment_file(out_dir, e.id);
  fs::create_directories(fs::path(out_dir) / e.id);
  // Items of one experiment that end together assemble its record one after the other.
  core::FileLock lock((fs::path(out_dir) / e.id / ".record.lock").string(), study_lock_text());
  lock.lock();
  if (results_status(path) == root::kStatusFinished) return "";  // another item of the experiment wrote it
  Outcome o;
  bool pending = false;
  auto note_failure = [&](const std::string& phase, const std::string& file) {
    if (o.status == root::kStatusFailed) return;
    o.status = root::kStatusFailed;
    o.error = phase + ": " + stored_error(file);
  };
  if (e.search) {
    const auto file = (fs::path(search_dir(e, out_dir)) / "results.h5").string();
    const auto status = results_status(file);
    if (status == root::kStatusFailed) {
      note_failure("search", file);
    } else if (status == root::kStatusFinished) {
      store::H5File f(file, store::H5File::Mode::Read);
      o.search = search::read_search_results(f, store::layout::search::kGroup);
    } else {
      pending = true;
    }
  }
  for (uint64_t seed : e.eval_seeds) {
    const auto file = (fs::path(seed_dir(e, out_dir, seed)) / "results.h5").string();
    const auto status = results_status(file);
    if (status == root::kStatusFailed) {
      note_failure("retrain seed " + std::to_string(seed), file);
    } else if (status == root::kStatusFinished) {
      store::H5File f(file, store::H5File::Mode::Read);
      o.trains.emplace_back(seed, train::read_train_results(f, store::layout::train::kGroup));
    } else {
      pending = true;
    }
  }
  if (pending && o.status != root::kStatusFailed) return "";
  o.layers = e.eval_layers_from_search && e.search ? e.search->supernet.layers : e.train.model.layers;
  if (!o.trains.empty()) o.channels = o.trains.back().second.channels;
  write_experiment(e, path, o, devices);
  return o.status;
}

void retry_failed_phases(const std::string& out_dir, const std::vector<Experiment>& experiments) {
  auto retry = [](const std::string& dir, const std::string& what) {
    const fs::path file = fs::path(dir) / "results.h5";
    if (results_status(file.string()) != root::kStatusFailed) return;
    spdlog::info("sweep: {} failed in an earlier sweep and runs again ({} kept as results.failed.h5)", what, dir);
    fs::rename(file, fs::path(dir) / "results.failed.h5");
  };
  for (const auto& e : experiments) {
    if (results_status(experiment_file(out_dir, e.id)) == root::kStatusFinished) continue;
    if (e.search) retry(search_dir(e, out_dir), "the search of " + e.id);
    for (uint64_t seed : e.eval_seeds)
      retry(seed_dir(e, out_dir, seed), e.id + "'s retrain with seed " + std::to_string(seed));
  }
}

}  // namespace dnas::sweep
