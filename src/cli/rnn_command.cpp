// `dnas rnn search|train`: the recurrent search space on a word-level corpus (PTB format).
#include <ATen/Parallel.h>
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "dnas/comm/mpi_world.h"
#include "dnas/core/error.h"
#include "dnas/core/log.h"
#include "dnas/core/signals.h"
#include "dnas/core/run_dir.h"
#include "dnas/core/text_file.h"
#include "dnas/lm/rnn_results.h"
#include "settings_parser.h"
#include "subcommands.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

struct RnnSettings {
  lm::RnnConfig config;
  std::string ops = "auto";
  int threads = 0;
};

po::options_description rnn_keys(RnnSettings& s) {
  auto& c = s.config;
  auto& m = c.model;
  auto& se = c.search;
  auto& r = c.retrain;
  po::options_description d("Settings (INI section.key; override with --section.key=value)");
  d.add_options()
      ("data.corpus", with_default(&c.corpus), "directory with train.txt valid.txt test.txt (PTB format: a sentence per line)")
      ("data.limit_tokens", with_default(&c.limit_tokens), "use only the first N tokens of each split (0 = all)")
      ("model.hidden", with_default(&m.hidden), "search: embedding = hidden size")
      ("model.steps", with_default(&m.steps), "intermediate nodes of the cell")
      ("model.dropout", with_default(&m.dropout), "search: output dropout (locked)")
      ("model.dropout_h", with_default(&m.dropout_h), "search: dropout of h_{t-1} and node inputs")
      ("model.dropout_x", with_default(&m.dropout_x), "search: dropout of x_t")
      ("model.dropout_i", with_default(&m.dropout_i), "search: dropout of the embedded input (locked)")
      ("model.dropout_e", with_default(&m.dropout_e), "search: embedding (word) dropout")
      ("search.method", with_default(&se.method), "darts_1st | darts_2nd | nasp")
      ("search.ops", with_default(&s.ops), "activations, space separated (tanh relu sigmoid identity; none for DARTS), or auto: the method's (DARTS: none + the four, NASP: the four)")
      ("search.seed", with_default(&se.seed), "seed of weights, alphas, dropout masks and sequence lengths")
      ("search.epochs", with_default(&se.epochs), "search epochs")
      ("search.batch_size", with_default(&se.batch_size), "batch size of the weight and architecture steps")
      ("search.eval_batch_size", with_default(&se.eval_batch_size), "batch size of the per-epoch validation")
      ("search.bptt", with_default(&se.bptt), "mean sequence length (randomised as in the reference)")
      ("search.steps_per_epoch", with_default(&se.steps_per_epoch), "cap on steps per epoch (0 = a full pass)")
      ("search.eval_batches", with_default(&se.eval_batches), "cap on validation batches (0 = all)")
      ("search.lr", with_default(&se.lr), "SGD learning rate of the weights (scaled by seq_len / bptt)")
      ("search.weight_decay", with_default(&se.weight_decay), "SGD weight decay")
      ("search.clip", with_default(&se.clip), "gradient-norm clip of the weights")
      ("search.ar", with_default(&se.ar), "activation regularisation weight")
      ("search.tar", with_default(&se.tar), "temporal activation regularisation weight")
      ("search.arch_lr", with_default(&se.arch_lr), "Adam learning rate of the alphas")
      ("search.arch_beta1", with_default(&se.arch_beta1), "Adam beta1")
      ("search.arch_beta2", with_default(&se.arch_beta2), "Adam beta2")
      ("search.arch_weight_decay", with_default(&se.arch_weight_decay), "Adam weight decay")
      ("search.hessian_radius", with_default(&se.hessian_radius), "darts_2nd: finite-difference radius")
      ("retrain.genotype", with_default(&r.genotype), "dnas rnn train: Genotype(recurrent=[...], concat=...) or DARTS_V1 / DARTS_V2")
      ("retrain.seed", with_default(&r.seed), "seed of the retrain (0 = search.seed)")
      ("retrain.epochs", with_default(&r.epochs), "retrain epochs (0 = search only)")
      ("retrain.hidden", with_default(&r.hidden), "embedding = hidden size")
      ("retrain.batch_size", with_default(&r.batch_size), "training batch size")
      ("retrain.eval_batch_size", with_default(&r.eval_batch_size), "validation batch size")
      ("retrain.test_batch_size", with_default(&r.test_batch_size), "test batch size")
      ("retrain.bptt", with_default(&r.bptt), "mean sequence length")
      ("retrain.steps_per_epoch", with_default(&r.steps_per_epoch), "cap on steps per epoch (0 = a full pass)")
      ("retrain.eval_batches", with_default(&r.eval_batches), "cap on validation batches (0 = all)")
      ("retrain.lr", with_default(&r.lr), "SGD / ASGD learning rate")
      ("retrain.weight_decay", with_default(&r.weight_decay), "weight decay")
      ("retrain.clip", with_default(&r.clip), "gradient-norm clip")
      ("retrain.ar", with_default(&r.ar), "activation regularisation weight")
      ("retrain.tar", with_default(&r.tar), "temporal activation regularisation weight")
      ("retrain.dropout", with_default(&r.dropout), "output dropout")
      ("retrain.dropout_h", with_default(&r.dropout_h), "dropout of h_{t-1} and node inputs")
      ("retrain.dropout_x", with_default(&r.dropout_x), "dropout of x_t")
      ("retrain.dropout_i", with_default(&r.dropout_i), "dropout of the embedded input")
      ("retrain.dropout_e", with_default(&r.dropout_e), "embedding (word) dropout")
      ("retrain.asgd", with_default(&r.asgd), "switch to averaged SGD when validation stalls")
      ("retrain.nonmono", with_default(&r.nonmono), "epochs of patience before the ASGD switch")
      ("run.out_dir", with_default(&c.out_dir), "output directory (results.h5, config.ini)")
      ("run.threads", with_default(&s.threads), "intra-op threads (0 = all cores)")
      ("run.progress", with_default(&c.progress), "show progress");
  return d;
}

std::string to_ini(const RnnSettings& s) {
  const auto& c = s.config;
  const auto& m = c.model;
  const auto& se = c.search;
  const auto& r = c.retrain;
  std::ostringstream o;
  o << std::boolalpha << "[data]\ncorpus = " << c.corpus << "\nlimit_tokens = " << c.limit_tokens
    << "\n[model]\nhidden = " << m.hidden << "\nsteps = " << m.steps << "\ndropout = " << m.dropout
    << "\ndropout_h = " << m.dropout_h << "\ndropout_x = " << m.dropout_x << "\ndropout_i = " << m.dropout_i
    << "\ndropout_e = " << m.dropout_e << "\n[search]\nmethod = " << se.method << "\nops = " << s.ops
    << "\nseed = " << se.seed << "\nepochs = " << se.epochs << "\nbatch_size = " << se.batch_size
    << "\neval_batch_size = " << se.eval_batch_size << "\nbptt = " << se.bptt << "\nsteps_per_epoch = " << se.steps_per_epoch
    << "\neval_batches = " << se.eval_batches << "\nlr = " << se.lr << "\nweight_decay = " << se.weight_decay
    << "\nclip = " << se.clip << "\nar = " << se.ar << "\ntar = " << se.tar << "\narch_lr = " << se.arch_lr
    << "\narch_beta1 = " << se.arch_beta1 << "\narch_beta2 = " << se.arch_beta2
    << "\narch_weight_decay = " << se.arch_weight_decay << "\nhessian_radius = " << se.hessian_radius
    << "\n[retrain]\ngenotype = " << r.genotype << "\nseed = " << r.seed << "\nepochs = " << r.epochs
    << "\nhidden = " << r.hidden << "\nbatch_size = " << r.batch_size << "\neval_batch_size = " << r.eval_batch_size
    << "\ntest_batch_size = " << r.test_batch_size << "\nbptt = " << r.bptt << "\nsteps_per_epoch = " << r.steps_per_epoch
    << "\neval_batches = " << r.eval_batches << "\nlr = " << r.lr << "\nweight_decay = " << r.weight_decay
    << "\nclip = " << r.clip << "\nar = " << r.ar << "\ntar = " << r.tar << "\ndropout = " << r.dropout
    << "\ndropout_h = " << r.dropout_h << "\ndropout_x = " << r.dropout_x << "\ndropout_i = " << r.dropout_i
    << "\ndropout_e = " << r.dropout_e << "\nasgd = " << r.asgd << "\nnonmono = " << r.nonmono
    << "\n[run]\nout_dir = " << c.out_dir << "\nthreads = " << s.threads << "\nprogress = " << c.progress << "\n";
  return o.str();
}

std::string rnn_help() {
  RnnSettings defaults;
  return settings_help(
      "usage: dnas rnn search --config FILE.ini [--section.key=value ...] [--resume]\n"
      "                         search (then retrain if retrain.epochs > 0)\n"
      "       dnas rnn train  --config FILE.ini [--section.key=value ...] [--resume]\n"
      "                         retrain retrain.genotype\n"
      "--resume continues from run.out_dir's checkpoint.h5 / retrain_checkpoint.h5 at the last finished epoch",
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
    fail("dnas rnn runs on one rank", "mpirun", "run it without mpirun (data-parallel recurrent search is not supported)");
  auto& c = s.config;
  if (s.ops != "auto" && words(s.ops).empty())
    fail("is empty", "search.ops", "list ops (tanh relu sigmoid identity, and none for DARTS) or write auto");
  c.search.ops = s.ops == "auto" ? std::vector<std::string>{} : words(s.ops);
  if (c.retrain.seed == 0) c.retrain.seed = c.search.seed;
  lm::validate(c);
  if (mode == "train" && c.retrain.genotype.empty())
    fail("no genotype to retrain", "retrain.genotype", "give Genotype(recurrent=[...], concat=range(1, 9)) or DARTS_V2");
  if (mode == "train" && c.retrain.epochs <= 0) fail("retrain.epochs must be positive", "retrain.epochs");
  if (s.threads > 0) at::set_num_threads(s.threads);
  c.config_text = to_ini(s);
  spdlog::info("dnas rnn {}, resolved config:\n{}", mode, c.config_text);
  core::RunDirLock dir_lock(c.out_dir, "dnas rnn");  // held for the whole run
  if (!c.resume && !overwrite)
    core::refuse_to_overwrite(c.out_dir, {"checkpoint.h5", "retrain_checkpoint.h5", "results.h5"}, "rnn " + mode);
  core::write_text_atomically((std::filesystem::path(c.out_dir) / "config.ini").string(), c.config_text);
  const auto path = (std::filesystem::path(c.out_dir) / "results.h5").string();
  if (mode == "search") c.checkpoint = (std::filesystem::path(c.out_dir) / "checkpoint.h5").string();
  c.retrain.checkpoint = (std::filesystem::path(c.out_dir) / "retrain_checkpoint.h5").string();
  c.retrain.resume = c.resume;

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
              << "(from the last finished epoch)\n";
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
