#include "dnas/core/settings_diff.h"

#include <gtest/gtest.h>

using dnas::core::first_setting_difference;

TEST(SettingsDiff, NamesTheFirstDifferingKeyWithBothValues) {
  EXPECT_EQ(first_setting_difference("[search]\nepochs = 50\nseed = 1\n", "[search]\nepochs = 50\nseed = 2\n"),
            "search.seed: '1' -> '2'");
  EXPECT_EQ(first_setting_difference("[a]\nx = 1\n", "[a]\nx = 1\n"), "");
}

TEST(SettingsDiff, RunKeysOtherThanTheDeviceDoNotCount) {
  EXPECT_EQ(first_setting_difference("[run]\nthreads = 1\nout_dir = a\n", "[run]\nthreads = 8\nout_dir = b\n"), "");
  EXPECT_EQ(first_setting_difference("[run]\ndevice = cpu\n", "[run]\ndevice = cuda\n"), "run.device: 'cpu' -> 'cuda'");
  EXPECT_EQ(first_setting_difference("[run]\nprecision = fp32\n", "[run]\nprecision = bf16\n"),
            "run.precision: 'fp32' -> 'bf16'");
}

TEST(SettingsDiff, AKeyOnlyOneSideHasIsNoDifference) {
  EXPECT_EQ(first_setting_difference("[a]\nx = 1\n", "[a]\nx = 1\ny = 2\n"), "");
}

TEST(SettingsDiff, ConcatenatedConfigsAreComparedInOrder) {
  // A search's [data] then a retrain's [data]: the same key in the second config is told apart.
  const std::string before = "[data]\nbatch_size = 64\n[search]\ne = 1\n[data]\nbatch_size = 96\n";
  const std::string now = "[data]\nbatch_size = 64\n[search]\ne = 1\n[data]\nbatch_size = 128\n";
  EXPECT_EQ(first_setting_difference(before, now), "data.batch_size: '96' -> '128'");
}
