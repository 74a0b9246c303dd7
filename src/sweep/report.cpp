#include "dnas/sweep/report.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "dnas/core/error.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"

namespace dnas::sweep {
namespace {

namespace fs = std::filesystem;
namespace root = store::layout::provenance;
namespace record = store::layout::experiment;
namespace table = store::layout::summary;

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// Sample standard deviation (n - 1); 0 for fewer than two values.
double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

double number_or(const store::H5File& f, const std::string& key, double fallback) {
  return f.has_attribute("/", key) ? f.number_attribute("/", key) : fallback;
}

bool is_seed_key(const std::string& key) { return key.find("seed") != std::string::npos; }

}  // namespace

std::vector<ExperimentSummary> load_experiments(const std::string& dir, const std::vector<std::string>& current_ids,
                                                std::vector<std::string>* left_out) {
  std::map<std::string, size_t> position;  // id -> place in the study's grid
  for (size_t i = 0; i < current_ids.size(); ++i) position.emplace(current_ids[i], i);
  if (!fs::is_directory(dir)) fail("not a directory", dir, "give the study's out_dir");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".h5") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<ExperimentSummary> out;
  for (const auto& path : files) {
    store::H5File f(path.string(), store::H5File::Mode::Read);
    store::check_format_version(f);
    if (!f.has_attribute("/", root::kKind) || f.string_attribute("/", root::kKind) != root::kKindExperiment) continue;
    ExperimentSummary e;
    e.file = path.string();
    e.id = f.string_attribute("/", record::kId);
    if (!current_ids.empty() && !position.count(e.id)) {
      if (left_out) left_out->push_back(path.filename().string());
      continue;
    }
    e.status = f.string_attribute("/", root::kStatus);
    e.error = f.string_attribute("/", root::kError);
    e.method = f.string_attribute("/", record::kMethod);
    const std::string grid_prefix = record::kGridPrefix;
    for (const auto& key : f.attribute_names("/"))
      if (key.rfind(grid_prefix, 0) == 0) e.grid[key.substr(grid_prefix.size())] = f.string_attribute("/", key);
    for (const auto& [name, values] :
         {std::pair{record::kTestAcc, &e.test_acc}, {record::kTestTop5Acc, &e.test_top5_acc}})
      if (f.exists(name)) {
        auto acc = f.read_tensor(name).to(torch::kFloat64).contiguous();
        values->assign(acc.data_ptr<double>(), acc.data_ptr<double>() + acc.numel());
      }
    for (const char* key : {record::kDataset, record::kTrainDataset})  // the retrain's when the record has it
      if (f.has_attribute("/", key)) e.train_dataset = f.string_attribute("/", key);
    if (f.has_attribute("/", record::kProtocol)) e.protocol = f.string_attribute("/", record::kProtocol);
    e.parameters = number_or(f, record::kParameters, 0);
    e.multiply_adds = number_or(f, record::kMultiplyAdds, 0);
    e.search_gpu_days = number_or(f, record::kSearchGpuDays, 0);
    e.skips_normal = number_or(f, record::kSkipConnectionsNormal, 0);
    e.skips_reduce = number_or(f, record::kSkipConnectionsReduce, 0);
    out.push_back(std::move(e));
  }
  if (!position.empty())
    std::stable_sort(out.begin(), out.end(),
                     [&](const auto& a, const auto& b) { return position[a.id] < position[b.id]; });
  return out;
}

namespace {

// Grid keys that define the search space and the retrain protocol, which a random baseline
// must share with the row it is compared with.
bool is_space_key(const std::string& key) {
  if (key == "retrain.model.genotype_epoch") return false;
  for (const char* prefix : {"supernet.", "data.", "retrain."})
    if (key.rfind(prefix, 0) == 0) return true;
  return false;
}

bool same_space(const ReportRow& row, const ReportRow& base) {
  for (const auto& [k, v] : base.grid) {
    if (!is_space_key(k)) continue;
    auto it = row.grid.find(k);
    if (it == row.grid.end() || it->second != v) return false;
  }
  return true;
}

void set_relative_improvement(std::vector<ReportRow>& rows) {
  for (auto& row : rows) {
    const ReportRow* base = nullptr;
    for (const char* name : {"random", "random_ws"}) {
      for (const auto& b : rows)
        if (!base && b.method == name && b.finished && same_space(row, b)) base = &b;
    }
    if (base && row.finished && base->error_mean > 0)
      row.vs_random = 100.0 * (base->error_mean - row.error_mean) / base->error_mean;
    if (base && base != &row && row.finished) row.vs_random_test = compare_errors(row.seed_errors, base->seed_errors);
  }
}

void set_baseline_tests(std::vector<ReportRow>& rows, const std::string& baseline) {
  if (baseline.empty()) return;
  const ReportRow* base = nullptr;
  for (const auto& r : rows)
    if (!base && (r.group == baseline || r.method == baseline)) base = &r;
  if (!base) {  // e.g. a partial study: the other columns stay useful
    spdlog::warn("report: no row of the table is '{}' (--baseline / study.baseline); no baseline tests", baseline);
    return;
  }
  for (auto& row : rows) {
    row.baseline_group = base->group;
    if (&row != base && row.finished) row.vs_baseline_test = compare_errors(row.seed_errors, base->seed_errors);
  }
}

// "-1.20 [-2.51, +0.11], p = 0.071, within noise" (bootstrap interval added with >= 5 seeds).
std::string comparison_cell(const Comparison& c) {
  if (std::isnan(c.diff)) return "-";
  if (std::isnan(c.p)) return fmt::format("{:+.2f}, {}", c.diff, c.verdict);
  std::string out = fmt::format("{:+.2f} [{:+.2f}, {:+.2f}], p = {:.2g}", c.diff, c.ci_low, c.ci_high, c.p);
  if (!std::isnan(c.boot_low)) out += fmt::format(", bootstrap [{:+.2f}, {:+.2f}]", c.boot_low, c.boot_high);
  return out + ", " + c.verdict;
}

// The papers give top-5 error for the datasets with many classes.
bool has_top5_column(const ReportRow& r) {
  return r.train_dataset == "cifar100" || r.train_dataset == "tiny_imagenet" || r.train_dataset == "imagenet";
}

std::string top5_cell(const ReportRow& r) {
  if (!r.finished || std::isnan(r.top5_error_mean)) return "-";
  return r.search_seeds > 1 ? fmt::format("{:.2f} ± {:.2f}", r.top5_error_mean, r.top5_error_std_search)
                            : fmt::format("{:.2f}", r.top5_error_mean);
}

}  // namespace

std::vector<ReportRow> aggregate(const std::vector<ExperimentSummary>& experiments,
                                 const std::vector<std::string>& group_by, const std::string& baseline) {
  std::vector<std::string> keys = group_by;
  if (keys.empty()) {
    std::map<std::string, std::set<std::string>> values;
    for (const auto& e : experiments)
      for (const auto& [k, v] : e.grid) values[k].insert(v);
    for (const auto& [k, v] : values)
      if (!is_seed_key(k) && v.size() > 1 && k.find("method") == std::string::npos) keys.push_back(k);
  }
  std::map<std::string, std::vector<const ExperimentSummary*>> groups;
  std::vector<std::string> order;
  for (const auto& e : experiments) {
    std::string name = e.method;
    for (const auto& k : keys) {
      auto it = e.grid.find(k);
      name += ", " + k + "=" + (it == e.grid.end() ? "-" : it->second);
    }
    if (!groups.count(name)) order.push_back(name);
    groups[name].push_back(&e);
  }
  std::vector<ReportRow> rows;
  for (const auto& name : order) {
    ReportRow row;
    row.group = name;
    row.method = groups[name].front()->method;
    row.protocol = groups[name].front()->protocol;
    for (const auto& [k, v] : groups[name].front()->grid) {  // the keys the whole group shares
      bool shared = !is_seed_key(k);
      for (const auto* e : groups[name]) {
        const auto it = e->grid.find(k);
        shared = shared && it != e->grid.end() && it->second == v;
      }
      if (shared) row.grid[k] = v;
    }
    row.train_dataset = groups[name].front()->train_dataset;
    for (const auto* e : groups[name]) {
      if (e->protocol != row.protocol) row.protocol = "mixed";
      if (e->train_dataset != row.train_dataset) row.train_dataset = "mixed";
    }
    std::vector<double> per_search, within_std, all, params, madds, days, skn, skr, top5;
    bool every_top5 = true;
    for (const auto* e : groups[name]) {
      ++row.runs;
      if (e->status != "finished" || e->test_acc.empty()) continue;
      ++row.finished;
      std::vector<double> err;
      for (double a : e->test_acc) err.push_back(100.0 * (1.0 - a));
      per_search.push_back(mean(err));
      std::vector<double> err5;
      for (double a : e->test_top5_acc)
        if (!std::isnan(a)) err5.push_back(100.0 * (1.0 - a));
      every_top5 = every_top5 && !err5.empty() && err5.size() == err.size();
      top5.push_back(mean(err5));
      if (err.size() > 1) within_std.push_back(stdev(err));
      all.insert(all.end(), err.begin(), err.end());
      row.eval_seeds = std::max<int>(row.eval_seeds, static_cast<int>(err.size()));
      params.push_back(e->parameters / 1e6);
      madds.push_back(e->multiply_adds / 1e6);
      days.push_back(e->search_gpu_days);
      skn.push_back(e->skips_normal);
      skr.push_back(e->skips_reduce);
    }
    row.search_seeds = static_cast<int>(per_search.size());
    row.seed_errors = per_search;
    row.error_mean = mean(per_search);
    row.error_std_search = stdev(per_search);
    row.error_std_eval = mean(within_std);
    row.best_error = all.empty() ? 0.0 : *std::min_element(all.begin(), all.end());
    if (every_top5 && !top5.empty()) {
      row.top5_error_mean = mean(top5);
      row.top5_error_std_search = stdev(top5);
    }
    row.params_m = mean(params);
    row.madds_m = mean(madds);
    row.gpu_days = mean(days);
    row.skips_normal = mean(skn);
    row.skips_reduce = mean(skr);
    rows.push_back(row);
  }
  set_relative_improvement(rows);
  set_baseline_tests(rows, baseline);
  return rows;
}

std::string format_report(const std::vector<ReportRow>& rows, const std::string& title, const std::string& format) {
  const bool show_top5 = std::any_of(rows.begin(), rows.end(), [](const ReportRow& r) { return has_top5_column(r); });
  std::vector<std::string> head = {"method",
                                   "test error % (± std over search seeds)",
                                   "± std over eval seeds",
                                   "best %",
                                   "params (M)",
                                   "mult-adds (M)",
                                   "search cost (GPU-days)",
                                   "skips (normal/reduce)",
                                   "runs (finished/total)",
                                   "vs random (%)",
                                   "Δ error vs random [95% CI], p",
                                   "Δ error vs baseline [95% CI], p",
                                   "protocol"};
  if (show_top5) head.insert(head.begin() + 2, "top-5 error %");
  auto cells = [&](const ReportRow& r) {
    auto c = std::vector<std::string>{
        r.group,
        !r.finished          ? "-"
        : r.search_seeds > 1 ? fmt::format("{:.2f} ± {:.2f}", r.error_mean, r.error_std_search)
                             : fmt::format("{:.2f}", r.error_mean),
        r.finished && r.eval_seeds > 1 ? fmt::format("{:.2f}", r.error_std_eval) : "-",
        r.finished ? fmt::format("{:.2f}", r.best_error) : "-",
        fmt::format("{:.3f}", r.params_m),
        fmt::format("{:.1f}", r.madds_m),
        fmt::format("{:.4f}", r.gpu_days),
        fmt::format("{:.1f}/{:.1f}", r.skips_normal, r.skips_reduce),
        fmt::format("{}/{} ({} search x {} eval seeds)", r.finished, r.runs, r.search_seeds, r.eval_seeds),
        std::isnan(r.vs_random) ? "-" : fmt::format("{:+.1f}", r.vs_random),
        comparison_cell(r.vs_random_test),
        r.baseline_group == r.group ? "(baseline)" : comparison_cell(r.vs_baseline_test),
        r.protocol.empty() ? "-" : r.protocol};
    if (show_top5) c.insert(c.begin() + 2, top5_cell(r));
    return c;
  };
  std::string out;
  if (format == "csv") {
    out =
        "method,error_mean,error_std_search_seeds,error_std_eval_seeds,best_error,params_m,madds_m,gpu_days,"
        "skips_normal,skips_reduce,finished,runs,search_seeds,eval_seeds,vs_random,"
        "vs_random_diff,vs_random_ci_low,vs_random_ci_high,vs_random_p,vs_random_verdict,"
        "vs_baseline_diff,vs_baseline_ci_low,vs_baseline_ci_high,vs_baseline_p,vs_baseline_verdict,"
        "top5_error_mean,top5_error_std_search_seeds,protocol\n";
    auto number = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); };
    auto test = [&](const Comparison& c) {
      return fmt::format("{},{},{},{},{}", number(c.diff), number(c.ci_low), number(c.ci_high), number(c.p),
                         std::isnan(c.diff) ? "" : c.verdict);
    };
    for (const auto& r : rows)
      out += fmt::format(
          "\"{}\",{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:.2f},{:.6f},{:.2f},{:.2f},{},{},{},{},{},{},{},{},{},\"{}\"\n",
          r.group, r.error_mean, r.error_std_search, r.error_std_eval, r.best_error, r.params_m, r.madds_m, r.gpu_days,
          r.skips_normal, r.skips_reduce, r.finished, r.runs, r.search_seeds, r.eval_seeds, number(r.vs_random),
          test(r.vs_random_test), test(r.vs_baseline_test), number(r.top5_error_mean),
          std::isnan(r.top5_error_mean) ? "" : number(r.top5_error_std_search), r.protocol);
    return out;
  }
  if (format == "tex") {
    auto escaped = [](std::string cell) {
      auto replace_all = [&](const std::string& from, const std::string& to) {
        for (size_t p = 0; (p = cell.find(from, p)) != std::string::npos; p += to.size())
          cell.replace(p, from.size(), to);
      };
      replace_all("_", "\\_");
      replace_all("%", "\\%");
      replace_all("±", "$\\pm$");
      replace_all("Δ", "$\\Delta$");
      return cell;
    };
    out = "% " + title + "\n\\begin{tabular}{l" + std::string(head.size() - 2, 'c') + "l}\n\\hline\n";
    for (size_t i = 0; i < head.size(); ++i) out += (i ? " & " : "") + escaped(head[i]);
    out += " \\\\\n\\hline\n";
    for (const auto& r : rows) {
      auto c = cells(r);
      for (size_t i = 0; i < c.size(); ++i) out += (i ? " & " : "") + escaped(c[i]);
      out += " \\\\\n";
    }
    return out + "\\hline\n\\end{tabular}\n";
  }
  if (format != "md") fail("unknown report format '" + format + "'", "--format", "md | csv | tex");
  out = "### " + title + "\n\n|";
  for (const auto& h : head) out += " " + h + " |";
  out += "\n|";
  for (size_t i = 0; i < head.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& r : rows) {
    out += "|";
    for (const auto& c : cells(r)) out += " " + c + " |";
    out += "\n";
  }
  return out;
}

void write_report(const std::string& path, const std::vector<ReportRow>& rows, const std::string& title) {
  store::write_atomically(path, [&](store::H5File& f) {
    store::write_provenance(f, {root::kKindReport, root::kStatusFinished, "", title});
    std::vector<std::string> groups, protocols;
    std::map<std::string, std::vector<double>> cols;
    std::map<std::string, std::vector<std::string>> verdicts;
    for (const auto& r : rows) {
      groups.push_back(r.group);
      cols[table::kErrorMean].push_back(r.error_mean);
      cols[table::kTop5ErrorMean].push_back(r.top5_error_mean);
      cols[table::kErrorStdSearchSeeds].push_back(r.error_std_search);
      cols[table::kErrorStdEvalSeeds].push_back(r.error_std_eval);
      cols[table::kBestError].push_back(r.best_error);
      cols[table::kParamsM].push_back(r.params_m);
      cols[table::kMaddsM].push_back(r.madds_m);
      cols[table::kSearchGpuDays].push_back(r.gpu_days);
      cols[table::kSkipsNormal].push_back(r.skips_normal);
      cols[table::kSkipsReduce].push_back(r.skips_reduce);
      cols[table::kFinished].push_back(r.finished);
      cols[table::kRuns].push_back(r.runs);
      cols[table::kVsRandom].push_back(r.vs_random);
      cols[table::kSearchSeeds].push_back(r.search_seeds);
      cols[table::kEvalSeeds].push_back(r.eval_seeds);
      for (const auto& [name, c] :
           {std::pair{table::kVsRandom, &r.vs_random_test}, {table::kVsBaseline, &r.vs_baseline_test}}) {
        cols[std::string(name) + table::kDiffSuffix].push_back(c->diff);
        cols[std::string(name) + table::kCiLowSuffix].push_back(c->ci_low);
        cols[std::string(name) + table::kCiHighSuffix].push_back(c->ci_high);
        cols[std::string(name) + table::kPSuffix].push_back(c->p);
        verdicts[name].push_back(std::isnan(c->diff) ? "" : c->verdict);
      }
      protocols.push_back(r.protocol);
    }
    const std::string dir = std::string(table::kTable) + "/";
    f.write_strings(dir + table::kGroupColumn, groups);
    f.write_strings(dir + table::kProtocol, protocols);
    for (const auto& [name, v] : verdicts) f.write_strings(dir + name + table::kVerdictSuffix, v);
    for (const auto& [name, v] : cols) f.write_tensor(dir + name, torch::tensor(v, torch::kFloat64));
    f.set_attribute(table::kTable, table::kTitle, title);
  });
}

}  // namespace dnas::sweep
