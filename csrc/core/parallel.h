// parallel.h - small OpenMP helpers shared by kernels. Builds without OpenMP run serially.
#pragma once
#include <cstdint>
#ifdef NK_OPENMP
#include <omp.h>
#endif

namespace nk {

// Elementwise kernels are memory-bound: below this many elements a parallel region (1-4 us to
// start on this VM) costs more than it saves, so they run on one thread.
constexpr int64_t kParallelGrain = 32768;

inline int thread_id() {
#ifdef NK_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}
inline int thread_count() {
#ifdef NK_OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

// Split [0, n) into contiguous chunks, one per thread, each a multiple of `align` elements
// (so SIMD loops only see a tail in the last chunk). Call inside a parallel region.
inline void thread_range(int64_t n, int64_t align, int64_t* begin, int64_t* end) {
  int t = thread_id(), nt = thread_count();
  int64_t blocks = (n + align - 1) / align;
  int64_t per = (blocks + nt - 1) / nt;
  int64_t b = per * t * align, e = per * (t + 1) * align;
  *begin = b < n ? b : n;
  *end = e < n ? e : n;
}

}  // namespace nk
