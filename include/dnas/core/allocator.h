#pragma once
// Host memory policy. A training step frees and reallocates the same large activation buffers
// every step; glibc's default returns them to the OS (mmap/trim), and every reuse then pays a
// page fault per 4 KiB touched (measured: 1M faults, ~1 s per paper-shape retrain step).
namespace dnas::core {

// Keeps freed blocks in the process heap for reuse: allocations up to 1 GiB come from the
// heap and the heap top is never trimmed. Peak RSS is unchanged; RSS no longer falls between
// steps. Returns false where the C library refuses (non-glibc: nothing is changed).
bool keep_freed_memory();

}  // namespace dnas::core
