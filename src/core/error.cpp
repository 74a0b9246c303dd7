#include "dnas/core/error.h"

namespace dnas {

void fail(const std::string& what, const std::string& where, const std::string& hint) {
  std::string msg = what;
  if (!where.empty()) msg += " [" + where + "]";
  if (!hint.empty()) msg += ". Hint: " + hint;
  throw Error(msg);
}

}  // namespace dnas
