#pragma once
// Debian's default OpenBLAS is the pthread build: it starts its own thread per core, which
// spin and yield against libtorch's OpenMP threads on the same cores (measured here: recurrent
// search steps 3-4x slower, 70% of CPU time in spinning and sched_yield).
namespace dnas::core {

// With a pthread OpenBLAS, BLAS calls run on the calling thread and libtorch's intra-op
// threads keep the cores; an OpenMP or sequential OpenBLAS already shares them and is left as
// it is. Returns true when it changed the thread count.
bool single_threaded_pthread_blas();

}  // namespace dnas::core
