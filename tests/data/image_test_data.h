#pragma once
// Test helpers for the image and SVHN readers: the fixtures of tests/common/image_data.py (real
// Fashion-MNIST images written by PIL and scipy, with PIL's decoded pixels as the reference).
// They are generated once per version of the script into the temp directory and shared by the
// test processes (ctest runs every test in its own process).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dnas::data::image_test_data {

namespace fs = std::filesystem;

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The folder with every fixture; throws with the script's output when it fails (no PIL, no scipy,
// no Fashion-MNIST).
inline std::string fixture_dir() {
  static const std::string dir = [] {
    const std::string script = std::string(DNAS_SOURCE_DIR) + "/tests/common/image_data.py";
    const auto code = read_bytes(script);
    const size_t key = std::hash<std::string>{}(std::string(code.begin(), code.end()));
    const fs::path final_dir = fs::temp_directory_path() / ("dnas_image_data_" + std::to_string(key));
    if (fs::exists(final_dir / "complete")) return final_dir.string();
    const fs::path tmp = final_dir.string() + ".tmp" + std::to_string(getpid());
    fs::remove_all(tmp);
    const std::string log = tmp.string() + ".log";
    const std::string cmd = std::string(DNAS_PYTHON3) + " " + script + " " + tmp.string() + " > " + log + " 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::stringstream out;
      out << std::ifstream(log).rdbuf();
      fs::remove_all(tmp);
      fs::remove(log);
      throw std::runtime_error("the test data generator failed: " + cmd + "\n" + out.str() +
                               "\n(install python3-pil and python3-scipy: scripts/install_deps.sh)");
    }
    fs::remove(log);
    std::ofstream(tmp / "complete") << "ok\n";
    std::error_code ec;
    fs::rename(tmp, final_dir, ec);  // another test process may have won the race: use its copy
    if (ec) fs::remove_all(tmp);
    return final_dir.string();
  }();
  return dir;
}

inline std::string fixture(const std::string& relative) { return fixture_dir() + "/" + relative; }

struct Reference {
  std::string name;
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3], PIL's convert('RGB')
};

// PIL's decoding of codec/<name> (or of a draft reference such as "big.jpg.draft2").
inline Reference pil_reference(const std::string& name) {
  std::ifstream manifest(fixture("codec/manifest.txt"));
  Reference r;
  for (std::string line; std::getline(manifest, line);) {
    std::istringstream fields(line);
    fields >> r.name >> r.height >> r.width;
    if (r.name != name) continue;
    r.pixels = read_bytes(fixture("codec/" + name + ".rgb"));
    if (r.pixels.size() != static_cast<size_t>(r.height * r.width * 3)) throw std::runtime_error("bad " + name);
    return r;
  }
  throw std::runtime_error("no reference for " + name + " in codec/manifest.txt");
}

}  // namespace dnas::data::image_test_data
