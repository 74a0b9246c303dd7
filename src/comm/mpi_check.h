#pragma once
// Checked MPI calls for the comm module's sources: a failing call throws an Error naming the
// call, host, rank and source line.
#include <mpi.h>

namespace dnas::comm::detail {

void check_mpi(int code, const char* call, const char* file, int line);

}  // namespace dnas::comm::detail

#define DNAS_MPI_CHECK(call) ::dnas::comm::detail::check_mpi((call), #call, __FILE__, __LINE__)
