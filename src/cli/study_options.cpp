#include "study_options.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dnas/cli/options.h"
#include "dnas/core/error.h"
#include "dnas/core/hash.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

struct StudyFile {
  std::string search_config, train_config, eval_seeds = "0", published;
  bool retrain = true, eval_layers_from_search = false;
  int64_t threads = 0;
};

po::options_description study_keys(sweep::StudyConfig& s, StudyFile& f) {
  po::options_description d("Study settings ([study] section; grid keys in [grid])");
  d.add_options()
      ("study.name", po::value(&s.name)->default_value(s.name), "title of the report")
      ("study.out_dir", po::value(&s.out_dir)->default_value(s.out_dir), "one <id>.h5 per experiment plus work dirs")
      ("study.ranks_per_experiment", po::value(&s.ranks_per_experiment)->default_value(s.ranks_per_experiment), "ranks that run one experiment together")
      ("study.baseline", po::value(&s.baseline)->default_value(""), "the table's baseline row (a method, e.g. darts_1st): every row gets a Welch t-test against it")
      ("study.search_config", po::value(&f.search_config)->default_value(""), "base search config (.ini); empty: retrain-only study")
      ("study.train_config", po::value(&f.train_config)->default_value(""), "base retrain config (.ini)")
      ("study.retrain", po::value(&f.retrain)->default_value(f.retrain), "retrain and test every searched cell")
      ("study.eval_seeds", po::value(&f.eval_seeds)->default_value(f.eval_seeds), "retrain seeds per searched cell, space separated")
      ("study.eval_layers_from_search", po::value(&f.eval_layers_from_search)->default_value(false), "retrain with the search's supernet.layers (Stretchable Cells)")
      ("study.published", po::value(&f.published)->default_value(""), "published genotypes to retrain beside the searched ones (e.g. DARTS_V2)")
      ("study.threads", po::value(&f.threads)->default_value(0), "intra-op threads of every experiment (0 = the configs' run.threads)");
  return d;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string sanitize(std::string s) {
  for (auto& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') ch = '_';
  return s;
}

using Grid = std::vector<std::pair<std::string, std::vector<std::string>>>;

std::vector<std::string> split_plus(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = s.find('+', start)) != std::string::npos; start = end + 1) out.push_back(s.substr(start, end - start));
  out.push_back(s.substr(start));
  return out;
}

// Every combination of the grid's values, first key slowest. A zipped key `a+b` with values
// `x+y ...` sets a=x and b=y together (rows of an ablation table, not their product).
std::vector<std::vector<std::pair<std::string, std::string>>> expand(const Grid& grid) {
  std::vector<std::vector<std::pair<std::string, std::string>>> points{{}};
  for (const auto& [key, values] : grid) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
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

}  // namespace

StudyCommand parse_study_command(const std::vector<std::string>& args) {
  StudyCommand cmd;
  StudyFile file;
  auto keys = study_keys(cmd.study, file);
  std::string config_file;
  po::options_description all;
  all.add_options()("help,h", "")("config,c", po::value(&config_file), "study file (.ini)")(
      "only", po::value(&cmd.only), "run only experiment INDEX (0-based; job arrays)")(
      "list", "print the experiments (index and id) and exit");
  all.add(keys);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).run(), vm);
  } catch (const po::error& e) {
    fail(std::string("bad command-line option: ") + e.what(), "command line", "see `dnas sweep --help`");
  }
  if (vm.count("help")) {
    cmd.help = true;
    return cmd;
  }
  cmd.list = vm.count("list") > 0;
  if (!vm.count("config")) fail("no study file", "command line", "dnas sweep --config STUDY.ini");
  config_file = vm["config"].as<std::string>();
  std::ifstream in(config_file);
  if (!in || std::filesystem::is_directory(config_file))
    fail("cannot open study file (or it is a directory)", config_file, "check the path given to --config");
  if (vm.count("only") && vm["only"].as<int>() < 0)
    fail("--only " + std::to_string(vm["only"].as<int>()) + " is not an experiment index", "command line",
         "indices start at 0; `dnas sweep --config FILE --list` shows them");
  Grid grid;  // retrain-only keys first (slowest): experiments that differ only there share a search
  try {
    auto parsed = po::parse_config_file(in, keys, /*allow_unregistered=*/true);
    for (const auto& opt : parsed.options) {
      if (!opt.unregistered) continue;
      if (opt.string_key.rfind("grid.", 0) != 0)
        fail("unknown key '" + opt.string_key + "'", config_file,
             "study files have a [study] section and a [grid] section; `dnas sweep --help` lists the keys");
      const std::string key = opt.string_key.substr(5);
      auto values = words(opt.value.empty() ? "" : opt.value.front());
      if (values.empty()) fail("grid key '" + key + "' has no values", config_file, "list values separated by spaces");
      for (size_t i = 0; i < values.size(); ++i)
        if (std::find(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values[i]) !=
            values.begin() + static_cast<std::ptrdiff_t>(i))
          fail("grid key '" + key + "' lists '" + values[i] + "' twice", config_file,
               "each value once: repeated values would run the same experiment twice");
      for (const auto& v : values)
        if (split_plus(v).size() != split_plus(key).size())
          fail("grid value '" + v + "' of zipped key '" + key + "' needs one part per key", config_file,
               "write a+b = x1+y1 x2+y2 (one value per key, joined with +)");
      bool retrain_only = true;
      for (const auto& part : split_plus(key)) retrain_only = retrain_only && part.rfind("retrain.", 0) == 0;
      if (retrain_only)
        grid.insert(std::find_if(grid.begin(), grid.end(), [](const auto& g) { return g.first.rfind("retrain.", 0) != 0; }),
                    {key, values});
      else
        grid.emplace_back(key, values);
    }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad setting: ") + e.what(), config_file, "`dnas sweep --help` lists the keys");
  }
  if (file.eval_layers_from_search)
    for (const auto& [key, values] : grid)
      for (const auto& part : split_plus(key))
        if (part == "retrain.model.layers")
          fail("study.eval_layers_from_search and a retrain.model.layers grid key both set the retrain's layers",
               config_file, "keep one of them");
  if (cmd.study.ranks_per_experiment < 1) fail("must be >= 1", config_file + ": study.ranks_per_experiment");
  std::vector<uint64_t> seeds;
  for (const auto& w : words(file.eval_seeds)) {
    try {
      seeds.push_back(std::stoull(w));
    } catch (const std::exception&) {
      fail("eval seed '" + w + "' is not a number", config_file + ": study.eval_seeds", "e.g. eval_seeds = 0 1 2");
    }
  }
  for (size_t i = 1; i < seeds.size(); ++i)
    if (std::find(seeds.begin(), seeds.begin() + static_cast<std::ptrdiff_t>(i), seeds[i]) !=
        seeds.begin() + static_cast<std::ptrdiff_t>(i))
      fail("eval seed " + std::to_string(seeds[i]) + " is listed twice", config_file + ": study.eval_seeds",
           "list each retrain seed once");
  if (!file.retrain) seeds.clear();
  auto train_base = [&](const std::vector<std::pair<std::string, std::string>>& overrides) {
    std::vector<std::string> a;
    if (!file.train_config.empty()) a = {"--config", file.train_config};
    for (const auto& [k, v] : overrides) a.push_back("--" + k + "=" + v);
    if (file.threads > 0) a.push_back("--run.threads=" + std::to_string(file.threads));
    auto t = parse_train_command(a).config;
    t.run.config_text = to_ini(t);
    return t;
  };
  // An experiment's id is made of its grid values alone, so that adding values to a grid keeps
  // the ids (and files) of the experiments already run.
  std::set<std::string> ids;
  auto make_id = [&](const std::vector<std::pair<std::string, std::string>>& values) {
    std::string id;
    for (const auto& [k, v] : values) id += (id.empty() ? "" : "_") + sanitize(k) + "-" + sanitize(v);
    if (id.empty()) id = "base";
    if (id.size() > 160) id = id.substr(0, 140) + "_" + core::fnv1a_hex(id);  // file names stay short
    if (!ids.insert(id).second)
      fail("two experiments would both be named '" + id + "'", config_file,
           "grid values that differ only in characters other than letters, digits, '.', '_' and '-' "
           "are not told apart; rename one");
    return id;
  };
  // A grid point's retrain settings (keys retrain.*, without the prefix) and search settings.
  auto split_point = [](const std::vector<std::pair<std::string, std::string>>& point) {
    std::pair<std::vector<std::pair<std::string, std::string>>, std::vector<std::pair<std::string, std::string>>> out;
    for (const auto& [k, v] : point) {
      if (k.rfind("retrain.", 0) == 0)
        out.first.emplace_back(k.substr(8), v);
      else
        out.second.emplace_back(k, v);
    }
    return out;
  };
  // The published genotypes retrained at a grid point's retrain settings, once per setting
  // (a search epoch means nothing to them); they follow that setting's searches, as they did
  // when retrain keys were a separate, outer grid, so the ids of earlier versions stay.
  auto published_setting = [](std::vector<std::pair<std::string, std::string>> train_point) {
    train_point.erase(std::remove_if(train_point.begin(), train_point.end(),
                                     [](const auto& kv) { return kv.first == "model.genotype_epoch"; }),
                      train_point.end());
    return train_point;
  };
  std::vector<std::vector<std::pair<std::string, std::string>>> published_done;
  auto add_published = [&](const std::vector<std::pair<std::string, std::string>>& train_point) {
    if (std::find(published_done.begin(), published_done.end(), train_point) != published_done.end()) return;
    published_done.push_back(train_point);
    for (const auto& name : words(file.published)) {
      sweep::Experiment e;
      auto overrides = train_point;
      overrides.emplace_back("model.genotype", name);
      e.train = train_base(overrides);
      e.grid = {{"genotype", name}};
      for (const auto& [k, v] : train_point) e.grid.emplace_back("retrain." + k, v);
      e.id = make_id(e.grid);
      e.eval_seeds = seeds.empty() ? std::vector<uint64_t>{0} : seeds;
      cmd.experiments.push_back(std::move(e));
    }
  };
  const auto points = expand(grid);
  for (size_t i = 0; i < points.size(); ++i) {
    const auto [train_point, search_point] = split_point(points[i]);
    const bool last_of_setting = i + 1 == points.size() ||
                                 published_setting(split_point(points[i + 1]).first) != published_setting(train_point);
    if (file.search_config.empty()) {
      if (last_of_setting) add_published(published_setting(train_point));
      continue;
    }
    sweep::Experiment e;
    std::vector<std::string> a = {"--config", file.search_config};
    for (const auto& [k, v] : search_point) a.push_back("--" + k + "=" + v);
    if (file.threads > 0) a.push_back("--run.threads=" + std::to_string(file.threads));
    e.search = parse_search_command(a).config;
    e.search->run.config_text = to_ini(*e.search);
    e.train = train_base(train_point);
    e.grid = search_point;  // search keys, then retrain keys (the id order of earlier versions)
    for (const auto& [k, v] : train_point) e.grid.emplace_back("retrain." + k, v);
    e.id = make_id(e.grid);
    e.eval_seeds = seeds;
    e.eval_layers_from_search = file.eval_layers_from_search;
    cmd.experiments.push_back(std::move(e));
    if (last_of_setting) add_published(published_setting(train_point));
  }
  if (cmd.experiments.empty())
    fail("the study has no experiments", config_file, "set study.search_config (and a [grid]) or study.published");
  if (cmd.only >= static_cast<int>(cmd.experiments.size()))
    fail("--only " + std::to_string(cmd.only) + " is past the last experiment", config_file,
         "the study has " + std::to_string(cmd.experiments.size()) + " experiments (0-based)");
  return cmd;
}

std::string study_help() {
  sweep::StudyConfig s;
  StudyFile f;
  std::ostringstream out;
  out << "usage: [mpirun -np N] dnas sweep --config STUDY.ini [--study.key=value ...] [--only INDEX] [--list]\n\n"
      << "[grid] keys are search-config keys (search.method, search.seed, supernet.layers, ...) with\n"
      << "space-separated values; keys prefixed retrain. (retrain.model.channels) vary the retrain.\n"
      << "A zipped key a+b = x1+y1 x2+y2 sets both keys per value (ablation rows, not a product); it\n"
      << "may mix search and retrain keys. Experiments that differ only in retrain keys share one\n"
      << "search (run once, under out_dir/searches/).\n\n"
      << study_keys(s, f);
  return out.str();
}

}  // namespace dnas::cli
