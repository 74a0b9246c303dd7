#include "dnas/core/log.h"

namespace dnas::core {

void init_logging(int rank, bool verbose, bool logs_info) {
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S] [r" + std::to_string(rank) + "] [%^%l%$] %v");
  if (rank == 0 || logs_info)
    spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  else
    spdlog::set_level(spdlog::level::warn);
}

}  // namespace dnas::core
