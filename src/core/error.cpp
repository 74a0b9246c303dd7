#include "dnas/core/error.h"

namespace dnas {

namespace {

std::string message(const std::string& what, const std::string& where, const std::string& hint) {
  std::string msg = what;
  if (!where.empty()) msg += " [" + where + "]";
  if (!hint.empty()) msg += ". Hint: " + hint;
  return msg;
}

}  // namespace

std::string abbreviated(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  return text.substr(0, max) + "... (" + std::to_string(text.size()) + " characters)";
}

void fail(const std::string& what, const std::string& where, const std::string& hint) {
  throw Error(message(what, where, hint));
}

void fail_on_every_rank(const std::string& what, const std::string& where, const std::string& hint) {
  throw GroupError(message(what, where, hint));
}

}  // namespace dnas
