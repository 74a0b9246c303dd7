#include "dnas/sweep/study_plan.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "dnas/core/error.h"
#include "dnas/core/hash.h"
#include "dnas/search/search_keys.h"
#include "dnas/train/train_keys.h"

namespace dnas::sweep {
namespace {

using Point = std::vector<std::pair<std::string, std::string>>;

const std::string kRetrainPrefix = "retrain.";
const std::string kGridHint =
    "grid keys are search settings (`dnas search --help`) or retrain.<key> with a retrain setting (`dnas train "
    "--help`)";

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> split_plus(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = s.find('+', start)) != std::string::npos; start = end + 1)
    out.push_back(s.substr(start, end - start));
  out.push_back(s.substr(start));
  return out;
}

core::KeyTable keys_of(search::SearchConfig& c) { return search::search_keys(c); }
core::KeyTable keys_of(train::TrainConfig& c) { return train::train_keys(c); }

bool is_retrain_key(const std::string& key) { return key.rfind(kRetrainPrefix, 0) == 0; }

std::string sanitize(std::string s) {
  for (auto& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') ch = '_';
  return s;
}

// Unknown keys, empty or repeated values, zipped values without one part per key, and keys that
// another study setting already decides.
void check_grid(const StudyPlan& plan) {
  search::SearchConfig search_defaults;
  train::TrainConfig train_defaults;
  const auto search_table = search::search_keys(search_defaults);
  const auto train_table = train::train_keys(train_defaults);
  for (const auto& [key, values] : plan.grid) {
    for (const auto& part : split_plus(key)) {
      const bool retrain = is_retrain_key(part);
      if (!(retrain ? train_table.find(part.substr(kRetrainPrefix.size())) : search_table.find(part)))
        fail("grid key '" + part + "' is not a setting", plan.file, kGridHint);
      if (!retrain && !plan.search)
        fail("grid key '" + part + "' varies the search, but the study has no search", plan.file,
             "set study.search_config, or vary retrain.* keys only");
      if (part == "retrain.model.layers" && plan.settings.eval_layers_from_search)
        fail("study.eval_layers_from_search and a retrain.model.layers grid key both set the retrain's layers",
             plan.file, "keep one of them");
    }
    if (values.empty()) fail("grid key '" + key + "' has no values", plan.file, "list values separated by spaces");
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::find(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values[i]) !=
          values.begin() + static_cast<std::ptrdiff_t>(i))
        fail("grid key '" + key + "' lists '" + values[i] + "' twice", plan.file,
             "each value once: repeated values would run the same experiment twice");
      if (split_plus(values[i]).size() != split_plus(key).size())
        fail("grid value '" + values[i] + "' of zipped key '" + key + "' needs one part per key", plan.file,
             "write a+b = x1+y1 x2+y2 (one value per key, joined with +)");
    }
  }
}

// Grid lines whose keys are all retrain keys first (slowest), the others after, each group in
// file order: experiments that differ only in the search are neighbours of their shared retrain.
std::vector<GridLine> retrain_lines_first(const std::vector<GridLine>& grid) {
  auto out = grid;
  std::stable_partition(out.begin(), out.end(), [](const GridLine& line) {
    const auto parts = split_plus(line.key);
    return std::all_of(parts.begin(), parts.end(), is_retrain_key);
  });
  return out;
}

// Every combination of the grid's values, first line slowest; a zipped line sets its keys together.
std::vector<Point> grid_points(const std::vector<GridLine>& grid) {
  std::vector<Point> points{{}};
  for (const auto& [key, values] : grid) {
    std::vector<Point> next;
    const auto names = split_plus(key);
    for (const auto& p : points)
      for (const auto& v : values) {
        auto q = p;
        const auto parts = split_plus(v);
        for (size_t k = 0; k < names.size(); ++k) q.emplace_back(names[k], parts[k]);
        next.push_back(q);
      }
    points = next;
  }
  return points;
}

std::vector<uint64_t> eval_seeds(const StudyPlan& plan) {
  std::vector<uint64_t> seeds;
  const std::string where = plan.file + ": study.eval_seeds";
  for (const auto& w : words(plan.settings.eval_seeds)) {
    if (w.empty() ||
        !std::all_of(w.begin(), w.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
      fail("eval seed '" + w + "' is not a number", where, "e.g. eval_seeds = 0 1 2");
    try {
      seeds.push_back(std::stoull(w));
    } catch (const std::exception&) {
      fail("eval seed '" + w + "' is out of range", where, "give seeds below 2^64");
    }
    if (std::count(seeds.begin(), seeds.end(), seeds.back()) > 1)
      fail("eval seed " + w + " is listed twice", where, "list each retrain seed once");
  }
  return plan.settings.retrain ? seeds : std::vector<uint64_t>{};
}

class Expansion {
 public:
  explicit Expansion(const StudyPlan& plan) : plan_(plan), seeds_(eval_seeds(plan)) {}

  std::vector<Experiment> run() {
    const auto points = grid_points(retrain_lines_first(plan_.grid));
    for (size_t i = 0; i < points.size(); ++i) {
      const auto [train_point, search_point] = split(points[i]);
      const bool last_of_setting =
          i + 1 == points.size() || published_setting(split(points[i + 1]).first) != published_setting(train_point);
      if (plan_.search) add_searched(train_point, search_point);
      if (last_of_setting) add_published(published_setting(train_point));
    }
    if (out_.empty())
      fail("the study has no experiments", plan_.file, "set study.search_config (and a [grid]) or study.published");
    return std::move(out_);
  }

 private:
  // A grid point's retrain values (retrain.* keys, without the prefix) and search values.
  static std::pair<Point, Point> split(const Point& point) {
    std::pair<Point, Point> out;
    for (const auto& [k, v] : point) {
      if (is_retrain_key(k))
        out.first.emplace_back(k.substr(kRetrainPrefix.size()), v);
      else
        out.second.emplace_back(k, v);
    }
    return out;
  }

  // The retrain setting a published genotype is retrained at: a search epoch means nothing to it.
  static Point published_setting(Point train_point) {
    train_point.erase(std::remove_if(train_point.begin(), train_point.end(),
                                     [](const auto& kv) { return kv.first == "model.genotype_epoch"; }),
                      train_point.end());
    return train_point;
  }

  // Errors from a config's own checks, prefixed with the experiment they came from.
  template <class F>
  void checked(const std::string& id, F&& check) {
    try {
      check();
    } catch (const Error& e) {
      fail("experiment '" + id + "': " + e.what(), plan_.file, "fix the grid values or the base config");
    }
  }

  // `base` with a grid point's values (keys without `prefix`) and the study's thread count, checked,
  // with its settings text.
  template <class Config>
  Config at_point(Config c, const Point& point, const std::string& prefix, const std::string& id) {
    const auto table = keys_of(c);
    for (const auto& [k, v] : point) core::set_key(table, k, v, plan_.file + " [grid] " + prefix + k, kGridHint);
    if (plan_.settings.threads > 0) c.run.threads = plan_.settings.threads;
    checked(id, [&] { validate(c); });
    c.run.config_text = config_text(c);
    return c;
  }

  // An experiment's id is made of its grid values alone, so that adding values to a grid keeps
  // the ids (and files) of the experiments already run.
  std::string make_id(const Point& values) {
    std::string id;
    for (const auto& [k, v] : values) id += (id.empty() ? "" : "_") + sanitize(k) + "-" + sanitize(v);
    if (id.empty()) id = "base";
    if (id.size() > 160) id = id.substr(0, 140) + "_" + core::fnv1a_hex(id);  // file names stay short
    if (!ids_.insert(id).second)
      fail("two experiments would both be named '" + id + "'", plan_.file,
           "grid values that differ only in characters other than letters, digits, '.', '_' and '-' are not told "
           "apart; rename one");
    return id;
  }

  void add_searched(const Point& train_point, const Point& search_point) {
    Experiment e;
    e.grid = search_point;  // search keys, then retrain keys (the id order of earlier versions)
    for (const auto& [k, v] : train_point) e.grid.emplace_back(kRetrainPrefix + k, v);
    e.id = make_id(e.grid);
    e.search = at_point(*plan_.search, search_point, "", e.id);
    e.train = at_point(plan_.train, train_point, kRetrainPrefix, e.id);
    e.eval_seeds = seeds_;
    e.eval_layers_from_search = plan_.settings.eval_layers_from_search;
    out_.push_back(std::move(e));
  }

  // The published genotypes retrained at a retrain setting, once per setting; they follow that
  // setting's searches, so the ids of earlier versions stay.
  void add_published(const Point& train_point) {
    if (std::find(published_done_.begin(), published_done_.end(), train_point) != published_done_.end()) return;
    published_done_.push_back(train_point);
    for (const auto& name : words(plan_.settings.published)) {
      Experiment e;
      e.grid = {{"genotype", name}};
      for (const auto& [k, v] : train_point) e.grid.emplace_back(kRetrainPrefix + k, v);
      e.id = make_id(e.grid);
      auto point = train_point;
      point.emplace_back("model.genotype", name);
      e.train = at_point(plan_.train, point, kRetrainPrefix, e.id);
      e.eval_seeds = seeds_.empty() ? std::vector<uint64_t>{0} : seeds_;
      out_.push_back(std::move(e));
    }
  }

  const StudyPlan& plan_;
  const std::vector<uint64_t> seeds_;
  std::set<std::string> ids_;
  std::vector<Point> published_done_;
  std::vector<Experiment> out_;
};

}  // namespace

core::KeyTable study_keys(StudySettings& s) {
  core::KeyTable t;
  t.add("study.name", &s.study.name, "title of the report");
  t.add("study.out_dir", &s.study.out_dir, "one <id>.h5 per experiment plus work dirs");
  t.add("study.ranks_per_experiment", &s.study.ranks_per_experiment, "ranks that run one experiment together")
      .at_least(1);
  t.add("study.baseline", &s.study.baseline,
        "the table's baseline row (a method, e.g. darts_1st): every row gets a Welch t-test against it");
  t.add("study.search_config", &s.search_config, "base search config (.ini); empty: retrain-only study");
  t.add("study.train_config", &s.train_config, "base retrain config (.ini)");
  t.add("study.retrain", &s.retrain, "retrain and test every searched cell");
  t.add("study.eval_seeds", &s.eval_seeds, "retrain seeds per searched cell, space separated");
  t.add("study.eval_layers_from_search", &s.eval_layers_from_search,
        "retrain with the search's supernet.layers (Stretchable Cells)");
  t.add("study.published", &s.published, "published genotypes to retrain beside the searched ones (e.g. DARTS_V2)");
  t.add("study.threads", &s.threads, "intra-op threads of every experiment (0 = the configs' run.threads)").at_least(0);
  return t;
}

std::vector<Experiment> expand_study(const StudyPlan& plan) {
  check_grid(plan);
  return Expansion(plan).run();
}

}  // namespace dnas::sweep
