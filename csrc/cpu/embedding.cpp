// embedding.cpp - Embedding lookup and scatter-add backward (definitions in embedding.h).
#include "cpu/embedding.h"

#include <cstring>

#include "core/errors.h"
#include "core/parallel.h"

namespace nk {

template <typename I>
void embedding_check_indices(const I* idx, int64_t R, int64_t V) {
  for (int64_t r = 0; r < R; ++r) {
    const int64_t v = static_cast<int64_t>(idx[r]);
    NK_CHECK_INDEX(v >= 0 && v < V, "embedding: index ", v, " at flat position ", r,
                   " is out of range: indices must be in [0, input_dim=", V, ")");
  }
}

// ---- naive reference ----------------------------------------------------------------------------
template <typename I>
void embedding_forward_naive(float* y, const I* idx, const float* W, int64_t R, int64_t V, int64_t D) {
  for (int64_t r = 0; r < R; ++r)
    for (int64_t d = 0; d < D; ++d) y[r * D + d] = W[static_cast<int64_t>(idx[r]) * D + d];
}

template <typename I>
void embedding_backward_naive(float* dW, const float* dy, const I* idx, int64_t R, int64_t V, int64_t D) {
  for (int64_t r = 0; r < R; ++r)
    for (int64_t d = 0; d < D; ++d) dW[static_cast<int64_t>(idx[r]) * D + d] += dy[r * D + d];
}

// ---- rows_parallel ----------------------------------------------------------------------------
template <typename I>
void embedding_forward(float* y, const I* idx, const float* W, int64_t R, int64_t V, int64_t D) {
#pragma omp parallel for schedule(static) if (R * D >= kParallelGrain)
  for (int64_t r = 0; r < R; ++r)
    std::memcpy(y + r * D, W + static_cast<int64_t>(idx[r]) * D, sizeof(float) * D);
}

template <typename I>
void embedding_backward(float* dW, const float* dy, const I* idx, int64_t R, int64_t V, int64_t D) {
  // Thread k owns vocabulary rows [v0, v1): it alone writes them, so no atomics or buffers.
#pragma omp parallel if (R * D >= kParallelGrain)
  {
    int64_t v0, v1;
    thread_range(V, 1, &v0, &v1);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t v = static_cast<int64_t>(idx[r]);
      if (v < v0 || v >= v1) continue;
      float* w = dW + v * D;
      const float* g = dy + r * D;
      for (int64_t d = 0; d < D; ++d) w[d] += g[d];
    }
  }
}

#define NK_EMBEDDING_INSTANTIATE(I)                                                                  \
  template void embedding_check_indices<I>(const I*, int64_t, int64_t);                              \
  template void embedding_forward<I>(float*, const I*, const float*, int64_t, int64_t, int64_t);     \
  template void embedding_backward<I>(float*, const float*, const I*, int64_t, int64_t, int64_t);    \
  template void embedding_forward_naive<I>(float*, const I*, const float*, int64_t, int64_t, int64_t); \
  template void embedding_backward_naive<I>(float*, const float*, const I*, int64_t, int64_t, int64_t);
NK_EMBEDDING_INSTANTIATE(int32_t)
NK_EMBEDDING_INSTANTIATE(int64_t)
#undef NK_EMBEDDING_INSTANTIATE

}  // namespace nk
