#pragma once
// A stable 64-bit FNV-1a hash of a text as 16 hex digits: names that must not change between
// versions or machines (genotype hashes, shared search directories).
#include <cstdint>
#include <cstdio>
#include <string>

namespace dnas::core {

inline std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 1469598103934665603ull;  // offset basis
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace dnas::core
