#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dnas/cli/options.h"
#include "dnas/core/error.h"
#include "dnas/search/search_config.h"
#include "dnas/search/search_keys.h"
#include "dnas/train/train_keys.h"

using dnas::cli::parse_search_command;

namespace {

std::string write_ini(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("dnas_cli_" + name + ".ini");
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse_search_command(args);
  } catch (const dnas::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Options, IniValuesAndCommandLineOverrides) {
  auto path = write_ini("ok",
                        "[data]\nbatch_size = 32\nlimit = 1000\n[supernet]\nlayers = 5\n"
                        "normal_ops = sep_3x3 skip_connect\n[search]\nmethod = darts_2nd\n");
  auto cmd = parse_search_command({"--config", path, "--supernet.layers=6", "--search.seed=3"});
  EXPECT_EQ(cmd.config.data.batch_size, 32);
  EXPECT_EQ(cmd.config.data.limit, 1000);
  EXPECT_EQ(cmd.config.supernet.layers, 6);  // the command line wins
  EXPECT_EQ(cmd.config.run.seed, 3u);
  EXPECT_EQ(cmd.config.run.method, "darts_2nd");
  EXPECT_EQ(cmd.config.supernet.normal_ops, (std::vector<std::string>{"sep_3x3", "skip_connect"}));
  EXPECT_EQ(cmd.config.optim.epochs, 50);  // default kept
}

TEST(Options, UnknownKeyInFileNamesKeyAndFile) {
  auto path = write_ini("unknown", "[data]\nbatchsize = 32\n");
  auto msg = error_of({"--config", path});
  EXPECT_NE(msg.find("batchsize"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(Options, BadValueNamesTheKey) {
  auto path = write_ini("badvalue", "[supernet]\nlayers = eight\n");
  auto msg = error_of({"--config", path});
  EXPECT_NE(msg.find("supernet.layers"), std::string::npos) << msg;
  auto msg2 = error_of({"--data.flip=maybe"});
  EXPECT_NE(msg2.find("data.flip"), std::string::npos) << msg2;
}

TEST(Options, OutOfRangeValuesAndUnknownNamesAreErrors) {
  EXPECT_NE(error_of({"--data.batch_size=0"}).find("data.batch_size"), std::string::npos);
  EXPECT_NE(error_of({"--supernet.channels=7"}).find("supernet.channels"), std::string::npos);
  EXPECT_NE(error_of({"--search.method=darts_3rd"}).find("search.method"), std::string::npos);
  EXPECT_NE(error_of({"--supernet.op_set=darts9"}).find("darts9"), std::string::npos);
  EXPECT_NE(error_of({"--supernet.normal_ops=sep_conv_3x3 warp"}).find("warp"), std::string::npos);
  EXPECT_NE(error_of({"--config", "/nonexistent/x.ini"}).find("/nonexistent/x.ini"), std::string::npos);
  EXPECT_NE(error_of({"--no-such-option=1"}).find("no-such-option"), std::string::npos);
}

TEST(Options, HelpListsEveryKeyWithDefaults) {
  auto help = dnas::cli::search_help();
  for (const char* key : {"data.dataset", "data.limit", "supernet.op_set", "search.method", "search.arch_lr",
                          "run.out_dir", "run.threads"})
    EXPECT_NE(help.find(key), std::string::npos) << key;
  EXPECT_NE(help.find("0.025"), std::string::npos);  // w_lr default shown
}

TEST(Options, ResolvedConfigRoundTripsThroughIni) {
  auto cmd = parse_search_command(
      {"--data.limit=500", "--supernet.reduce_ops=max_pool_3x3 skip_connect", "--data.split_shuffle=true"});
  auto path = write_ini("roundtrip", dnas::search::config_text(cmd.config));
  auto again = parse_search_command({"--config", path});
  EXPECT_EQ(dnas::search::config_text(again.config), dnas::search::config_text(cmd.config));
  EXPECT_TRUE(again.config.data.split_shuffle);
}

TEST(TrainOptions, IniOverridesResumeAndValidation) {
  auto path = write_ini("train",
                        "[model]\ngenotype = DARTS_V1\nchannels = 16\nlayers = 8\n[train]\nepochs = 5\n"
                        "schedule = exponential\nseed = 4\n[data]\ncutout = 0\n");
  auto cmd = dnas::cli::parse_train_command({"--config", path, "--model.layers=11", "--resume"});
  EXPECT_EQ(cmd.config.model.genotype, "DARTS_V1");
  EXPECT_EQ(cmd.config.model.channels, 16);
  EXPECT_EQ(cmd.config.model.layers, 11);
  EXPECT_EQ(cmd.config.optim.schedule, "exponential");
  EXPECT_EQ(cmd.config.run.seed, 4u);
  EXPECT_EQ(cmd.config.data.cutout, 0);
  EXPECT_TRUE(cmd.config.run.resume);
  EXPECT_EQ(cmd.config.optim.lr, 0.025);  // default kept
  // The resolved INI parses back to the same settings.
  auto again = dnas::cli::parse_train_command({"--config", write_ini("train2", dnas::train::config_text(cmd.config))});
  EXPECT_EQ(dnas::train::config_text(again.config), dnas::train::config_text(cmd.config));
  try {
    dnas::cli::parse_train_command({"--train.schedule=step"});
    FAIL() << "expected an error";
  } catch (const dnas::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.schedule"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dnas::cli::parse_train_command({"--help"}).help);
}

// Every switch of docs/methods.md's table that README lists, at its non-default value, reaches the
// config (and the INI text that names the run).
TEST(Options, EveryDocumentedMethodSwitchParses) {
  auto cmd = parse_search_command({"--search.method=nasp",
                                   "--supernet.op_set=nasp7",
                                   "--search.w_nesterov=true",
                                   "--gdas.derive=autodl",
                                   "--milenas.lambda=0.5",
                                   "--milenas.clip_arch_grads_like_code=true",
                                   "--eoinas.forward=hard",
                                   "--eoinas.acc_stat=mean",
                                   "--eoinas.alpha_init=random",
                                   "--eoinas.arch_grad_clip=5",
                                   "--eoinas.C_when_Ce0=inf",
                                   "--eoinas.skip_dropout=true",
                                   "--eoinas.c_reference_window=0",
                                   "--eoinas.prune=false",
                                   "--eoinas.lambda=0",
                                   "--itnas.derive_from=probs",
                                   "--itnas.gumbel=false",
                                   "--itnas.transition=false",
                                   "--itnas.tiep=false",
                                   "--sc.variant=fixed2",
                                   "--sc.perspective=input",
                                   "--sc.val_split=separate",
                                   "--nasp.variant=standard",
                                   "--nasp.discrete_value=alpha",
                                   "--nasp.edge_top2=false",
                                   "--nasp.derive=softmax",
                                   "--nasp.restrict7=true",
                                   "--nasp.eta=0.1",
                                   "--nasp.greedy=0.2"});
  const auto& c = cmd.config;
  EXPECT_TRUE(c.optim.w_nesterov);
  EXPECT_EQ(c.gdas.derive, "autodl");
  EXPECT_TRUE(c.milenas.clip_arch_grads_like_code);
  EXPECT_EQ(c.eoinas.forward, "hard");
  EXPECT_EQ(c.eoinas.acc_stat, "mean");
  EXPECT_EQ(c.eoinas.alpha_init, "random");
  EXPECT_EQ(c.eoinas.C_when_Ce0, "inf");
  EXPECT_TRUE(c.eoinas.skip_dropout);
  EXPECT_EQ(c.eoinas.c_reference_window, 0.0);
  EXPECT_FALSE(c.eoinas.prune);
  EXPECT_EQ(c.itnas.derive_from, "probs");
  EXPECT_FALSE(c.itnas.gumbel || c.itnas.transition || c.itnas.tiep);
  EXPECT_EQ(c.sc.variant, "fixed2");
  EXPECT_EQ(c.sc.perspective, "input");
  EXPECT_EQ(c.nasp.variant, "standard");
  EXPECT_TRUE(c.nasp.restrict7);
  const auto ini = dnas::search::config_text(c);
  for (const char* line : {"w_nesterov = true", "clip_arch_grads_like_code = true", "C_when_Ce0 = inf",
                           "skip_dropout = true", "c_reference_window = 0", "restrict7 = true"})
    EXPECT_NE(ini.find(line), std::string::npos) << line;
  auto again = parse_search_command({"--config", write_ini("switches", ini)});
  EXPECT_EQ(dnas::search::config_text(again.config), ini);
  // nasp.restrict7 splits nasp7 as nasp12 is split: convolutions in normal cells, pooling in reduction cells.
  EXPECT_EQ(dnas::search::normal_op_names(c),
            (std::vector<std::string>{"skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"}));
  EXPECT_EQ(dnas::search::reduce_op_names(c),
            (std::vector<std::string>{"max_pool_3x3", "avg_pool_3x3", "skip_connect"}));
  EXPECT_NE(error_of({"--eoinas.C_when_Ce0=nan"}).find("eoinas.C_when_Ce0"), std::string::npos);
  EXPECT_NE(
      error_of({"--search.method=nasp", "--supernet.op_set=nasp12", "--nasp.restrict7=true"}).find("nasp.restrict7"),
      std::string::npos);
  EXPECT_NE(error_of({"--search.w_nesterov=true", "--search.w_momentum=0"}).find("search.w_nesterov"),
            std::string::npos);
}

// The GDAS presets: the reference code's (Nesterov, weight decay 5e-4, batch 256, 250 epochs) and
// EoiNAS's baseline (its 160-epoch search protocol).
TEST(Options, GdasPresetsParse) {
  const std::string dir = std::string(DNAS_SOURCE_DIR) + "/config/paper/";
  const auto ref = parse_search_command({"--config", dir + "gdas_ref.ini"}).config;
  EXPECT_EQ(ref.run.method, "gdas");
  EXPECT_TRUE(ref.optim.w_nesterov);
  EXPECT_EQ(ref.optim.w_weight_decay, 5e-4);
  EXPECT_EQ(ref.data.batch_size, 256);
  EXPECT_EQ(ref.optim.epochs, 250);
  const auto eoinas = parse_search_command({"--config", dir + "gdas_eoinas.ini"}).config;
  EXPECT_EQ(eoinas.run.method, "gdas");
  EXPECT_FALSE(eoinas.optim.w_nesterov);
  EXPECT_EQ(eoinas.optim.epochs, 160);
  EXPECT_EQ(eoinas.data.batch_size, 64);
}

// What counts as "the same config" is one rule: the keys that change results are exactly the ones
// outside [run], plus run.device and run.precision; the settings comparison of resume and of a study's records
// (core::first_setting_difference) leaves out the same [run] keys.
TEST(Options, ResultChangingKeysAreTheSameForEveryTableAndTheResumeCheck) {
  dnas::search::SearchConfig search;
  dnas::train::TrainConfig train;
  for (const auto& table : {dnas::search::search_keys(search), dnas::train::train_keys(train)})
    for (const auto& key : table.keys()) {
      const bool run_section = key.name.rfind("run.", 0) == 0;
      EXPECT_EQ(key.changes_results, !run_section || key.name == "run.device" || key.name == "run.precision")
          << key.name;
    }
  // Every key of the table is an option with the table's help, and --help shows full-precision defaults.
  const auto help = dnas::cli::search_help();
  const auto table = dnas::search::search_keys(search);
  for (const auto& key : table.keys()) EXPECT_NE(help.find(key.name), std::string::npos) << key.name;
  EXPECT_EQ(help.find("0.025000000000000001"), std::string::npos);
}
