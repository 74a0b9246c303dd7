#pragma once
// The one exception type of dnas: what failed, the file/key involved, and a hint.
#include <stdexcept>
#include <string>

namespace dnas {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error that every rank of a data-parallel group raises at the same step, because it is
// decided from values the group has reduced or replicated (a non-finite summed loss): each rank
// can handle it on its own. Any other error on one rank of a group ends the job (comm::abort_job).
class GroupError : public Error {
 public:
  using Error::Error;
};

// Builds "what [where]. Hint: hint" so every message has the same shape.
[[noreturn]] void fail(const std::string& what, const std::string& where, const std::string& hint = "");
// `text` cut to about `max` characters for an error message ("abc… (5000000 characters)").
std::string abbreviated(const std::string& text, size_t max = 120);
// The same message, thrown as a GroupError.
[[noreturn]] void fail_on_every_rank(const std::string& what, const std::string& where, const std::string& hint = "");

}  // namespace dnas
