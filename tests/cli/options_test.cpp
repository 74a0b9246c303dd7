#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dnas/cli/options.h"
#include "dnas/core/error.h"

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
  auto path = write_ini("ok", "[data]\nbatch_size = 32\nlimit = 1000\n[supernet]\nlayers = 5\n"
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
  for (const char* key : {"data.dataset", "data.limit", "supernet.op_set", "search.method",
                          "search.arch_lr", "run.out_dir", "run.threads"})
    EXPECT_NE(help.find(key), std::string::npos) << key;
  EXPECT_NE(help.find("0.025"), std::string::npos);  // w_lr default shown
}

TEST(Options, ResolvedConfigRoundTripsThroughIni) {
  auto cmd = parse_search_command({"--data.limit=500", "--supernet.reduce_ops=max_pool_3x3 skip_connect",
                                   "--data.split_shuffle=true"});
  auto path = write_ini("roundtrip", dnas::cli::to_ini(cmd.config));
  auto again = parse_search_command({"--config", path});
  EXPECT_EQ(dnas::cli::to_ini(again.config), dnas::cli::to_ini(cmd.config));
  EXPECT_TRUE(again.config.data.split_shuffle);
}

TEST(TrainOptions, IniOverridesResumeAndValidation) {
  auto path = write_ini("train", "[model]\ngenotype = DARTS_V1\nchannels = 16\nlayers = 8\n[train]\nepochs = 5\n"
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
  auto again = dnas::cli::parse_train_command({"--config", write_ini("train2", dnas::cli::to_ini(cmd.config))});
  EXPECT_EQ(dnas::cli::to_ini(again.config), dnas::cli::to_ini(cmd.config));
  try {
    dnas::cli::parse_train_command({"--train.schedule=step"});
    FAIL() << "expected an error";
  } catch (const dnas::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.schedule"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dnas::cli::parse_train_command({"--help"}).help);
}
