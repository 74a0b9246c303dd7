#include "dnas/sweep/study_files.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>

#include "dnas/core/error.h"
#include "dnas/core/settings_diff.h"
#include "dnas/core/text_file.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"

namespace dnas::sweep {

namespace fs = std::filesystem;
namespace root = store::layout::provenance;

std::string manifest_file(const std::string& out_dir) { return (fs::path(out_dir) / "experiments.txt").string(); }

void write_manifest(const std::string& out_dir, const std::vector<Experiment>& experiments,
                    const std::string& baseline) {
  std::string text = baseline.empty() ? "" : "# baseline: " + baseline + "\n";
  for (const auto& e : experiments) text += e.id + "\n";
  core::write_text_atomically(manifest_file(out_dir), text);
}

Manifest read_manifest(const std::string& out_dir) {
  Manifest m;
  std::ifstream in(manifest_file(out_dir));
  const std::string baseline_tag = "# baseline: ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(baseline_tag, 0) == 0)
      m.baseline = line.substr(baseline_tag.size());
    else if (!line.empty() && line[0] != '#')
      m.ids.push_back(line);
  }
  return m;
}

void check_finished_records(const std::string& out_dir, const std::vector<Experiment>& experiments) {
  for (const auto& e : experiments) {
    const auto path = experiment_file(out_dir, e.id);
    if (!fs::exists(path)) continue;
    auto damaged = [&](const Error& err) {
      spdlog::warn("sweep: {} is damaged ({}); the experiment runs again", path, err.what());
    };
    std::optional<store::H5File> f;
    try {
      f.emplace(path, store::H5File::Mode::Read);
    } catch (const Error& err) {
      damaged(err);
      continue;
    }
    store::check_format_version(*f);  // outside the try: a newer dnas's record is refused, never rerun
    std::string status, stored;
    try {
      if (!f->has_attribute("/", root::kStatus) || !f->has_attribute("/", root::kConfig)) continue;
      status = f->string_attribute("/", root::kStatus);
      stored = f->string_attribute("/", root::kConfig);
    } catch (const Error& err) {
      damaged(err);
      continue;
    }
    if (status != root::kStatusFinished) continue;
    std::string current = e.search ? e.search->run.config_text : std::string();
    current += (current.empty() ? "" : "\n") + e.train.run.config_text;
    const auto diff = core::first_setting_difference(stored, current);
    if (!diff.empty())
      fail("the finished experiment was run with other settings than the study's current ones (" + diff + ")", path,
           "a study's results must all come from one setting: restore the setting, give the study a new "
           "study.out_dir, or move this file away to run the experiment again");
  }
}

void adopt_indexed_names(const std::string& out_dir, const std::vector<Experiment>& experiments) {
  if (!fs::is_directory(out_dir)) return;
  std::map<std::string, fs::path> indexed;  // id without its index -> old file
  const std::regex old_name("e[0-9]{3,}_(.+)\\.h5");
  for (const auto& entry : fs::directory_iterator(out_dir)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, old_name)) indexed.emplace(m[1].str(), entry.path());
  }
  for (const auto& e : experiments) {
    auto it = indexed.find(e.id);
    if (it == indexed.end() || fs::exists(experiment_file(out_dir, e.id))) continue;
    // Job-array tasks may adopt the same files at once: whoever renames first wins.
    std::error_code ec;
    const fs::path old_dir = it->second.parent_path() / it->second.stem(), new_dir = fs::path(out_dir) / e.id;
    if (fs::is_directory(old_dir, ec) && !fs::exists(new_dir, ec)) fs::rename(old_dir, new_dir, ec);
    fs::rename(it->second, experiment_file(out_dir, e.id), ec);
    if (!ec)
      spdlog::info("sweep: {} renamed to {}.h5 (ids no longer carry an index)", it->second.filename().string(), e.id);
  }
}

}  // namespace dnas::sweep
