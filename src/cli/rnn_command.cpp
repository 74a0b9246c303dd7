// `dnas rnn search|train`: the recurrent search space on a word-level corpus (PTB format).
#include <ATen/Parallel.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "dnas/comm/mpi_world.h"
#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/core/run_dir.h"
#include "dnas/core/signals.h"
#include "dnas/core/text_file.h"
#include "dnas/lm/rnn_results.h"
#include "dnas/ops/precision.h"
#include "rnn_settings.h"
#include "settings_parser.h"
#include "subcommands.h"

namespace dnas::cli {
namespace {

std::string rnn_help() {
  RnnSettings defaults;
  return settings_help(
      "usage: dnas rnn search --config FILE.ini [--section.key=value ...] [--resume]\n"
      "                         search (then retrain if retrain.epochs > 0)\n"
      "       dnas rnn train  --config FILE.ini [--section.key=value ...] [--resume]\n"
      "                         retrain retrain.genotype\n"
      "--resume continues from run.out_dir's checkpoint.h5 / retrain_checkpoint.h5 at the step where it stopped",
      rnn_keys(defaults));
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

int run_rnn(const std::string& mode, RnnSettings& s, bool overwrite) {
  auto& world = comm::MpiWorld::get();
  core::init_logging(world.rank());
  if (world.size() > 1)
    fail("dnas rnn runs on one rank", "mpirun",
         "run it without mpirun (data-parallel recurrent search is not supported)");
  auto& c = s.config;
  if (s.ops != "auto" && words(s.ops).empty())
    fail("is empty", "search.ops", "list ops (tanh relu sigmoid identity, and none for DARTS) or write auto");
  c.search.ops = s.ops == "auto" ? std::vector<std::string>{} : words(s.ops);
  if (c.retrain.seed == 0) c.retrain.seed = c.search.seed;
  const auto precision = ops::parse_precision(s.precision, "run.precision");
  if (precision == ops::Precision::Fp16)
    fail("fp16 needs a GPU and loss scaling; dnas rnn runs on the CPU", "run.precision", "use bf16 or fp32");
  c.model.precision = c.retrain.precision = precision;
  lm::validate(c);
  if (mode == "train" && c.retrain.genotype.empty())
    fail("no genotype to retrain", "retrain.genotype",
         "give Genotype(recurrent=[...], concat=range(1, 9)) or DARTS_V2");
  if (mode == "train" && c.retrain.epochs <= 0) fail("retrain.epochs must be positive", "retrain.epochs");
  if (s.threads > 0) at::set_num_threads(s.threads);
  c.config_text = core::to_ini(rnn_keys(s));
  spdlog::info("dnas rnn {}, resolved config:\n{}", mode, c.config_text);
  core::RunDirLock dir_lock(c.out_dir, "dnas rnn");  // held for the whole run
  if (!c.resume && !overwrite)
    core::refuse_to_overwrite(c.out_dir, {"checkpoint.h5", "retrain_checkpoint.h5", "results.h5"}, "rnn " + mode);
  core::write_text_atomically((std::filesystem::path(c.out_dir) / "config.ini").string(), c.config_text);
  const auto path = (std::filesystem::path(c.out_dir) / "results.h5").string();
  if (mode == "search") c.checkpoint = (std::filesystem::path(c.out_dir) / "checkpoint.h5").string();
  c.retrain.checkpoint = (std::filesystem::path(c.out_dir) / "retrain_checkpoint.h5").string();
  c.retrain.resume = c.resume;
  // run.stop_after_steps counts the steps of this invocation's first phase (the search, or the retrain).
  if (mode == "train") {
    c.retrain.stop_after_steps = c.stop_after_steps;
    c.stop_after_steps = 0;
  }

  const auto corpus = lm::load_corpus(c.corpus, c.limit_tokens);
  spdlog::info("corpus {}: vocabulary {}, tokens train {} valid {} test {}", c.corpus, corpus.vocab_size(),
               corpus.train.size(0), corpus.valid.size(0), corpus.test.size(0));
  lm::RnnRunRecord record;
  record.config = &c;
  record.vocab = corpus.vocab_size();
  // Copies of the latest epoch's results: what results.h5 keeps however the run ends.
  lm::RnnSearchResult searched;
  lm::RnnTrainResult retrained;
  const auto finish = [&](const std::string& status, const std::string& error) {
    record.status = status;
    record.error = error;
    lm::write_rnn_results(path, record);
  };
  try {
    lm::RnnGenotype genotype;
    if (mode == "search") {
      searched = lm::run_rnn_search(corpus, c, [&](const lm::RnnSearchResult& r) {
        searched = r;
        record.search = &searched;
        lm::write_rnn_results(path, record);
      });
      record.search = &searched;
      genotype = searched.genotype;
    } else {
      genotype = lm::resolve_rnn_genotype(c.retrain.genotype, "retrain.genotype");
    }
    if (c.retrain.epochs > 0) {
      retrained = lm::train_rnn(corpus, genotype, c.retrain, c.progress, [&](const lm::RnnTrainResult& r) {
        retrained = r;
        record.retrain = &retrained;
        lm::write_rnn_results(path, record);
      });
      record.retrain = &retrained;
    }
    finish("finished", "");
  } catch (const core::Interrupted&) {
    finish("interrupted", "");
    std::cerr << "dnas rnn: stopped on request; " << path << " keeps the finished epochs. Continue with --resume "
              << "(from the step where it stopped)\n";
    return core::kExitInterrupted;
  } catch (const std::exception& e) {
    finish("failed", e.what());
    throw;
  }
  std::cout << "\n" << lm::format_rnn_table(record) << "results: " << path << "\n";
  return 0;
}

}  // namespace

int rnn_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << rnn_help();
    return args.empty() ? 2 : 0;
  }
  const std::string mode = args[0];
  if (mode != "search" && mode != "train")
    fail("unknown rnn mode '" + mode + "'", "command line", "use `dnas rnn search` or `dnas rnn train`");
  RnnSettings s;
  const auto flags = parse_settings({args.begin() + 1, args.end()}, rnn_keys(s), "rnn " + mode);
  if (flags.help) {
    std::cout << rnn_help();
    return 0;
  }
  s.config.resume = flags.resume;
  return run_rnn(mode, s, flags.overwrite);
}

}  // namespace dnas::cli
