#pragma once
// The one exception type of dnas: what failed, the file/key involved, and a hint.
#include <stdexcept>
#include <string>

namespace dnas {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds "what [where]: detail. Hint: hint" so every message has the same shape.
[[noreturn]] void fail(const std::string& what, const std::string& where, const std::string& hint = "");

}  // namespace dnas
