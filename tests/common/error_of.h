#pragma once
// Test helper: the message of the dnas::Error that `f` throws, or "" when it throws none.
#include <functional>
#include <string>

#include "dnas/core/error.h"

namespace dnas::testing {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace dnas::testing
