// embedding.cu - Embedding lookup and scatter-add backward on the device (definitions and variants
// in cuda/embedding.h).
//
// Size letters: R index positions, V vocabulary rows, D embedding width.
// Kernels:
//   embedding_bad_index_kernel   atomicMin of the positions whose index is outside [0, V)
//   embedding_forward_kernel     y[r, d] = W[idx[r], d], one thread per (r, d), grid-stride
//   embedding_backward_kernel    atomicAdd(dW[idx[r], d], dy[r, d]), one thread per (r, d)
//   embedding_*_naive_kernel     one thread, the plain loops of cpu/embedding.cpp
#include "cuda/embedding.h"

#include <climits>

#include "core/errors.h"
#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 4096 ? blocks : 4096);
}

#define NK_GRID_STRIDE(i, n)                                                              \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// *first_bad = min(*first_bad, r) over positions r with idx[r] outside [0, V). Starts at INT_MAX.
template <typename I>
__global__ void embedding_bad_index_kernel(int* first_bad, const I* idx, int64_t R, int64_t V) {
  NK_GRID_STRIDE(r, R) {
    const int64_t v = static_cast<int64_t>(idx[r]);
    if (v < 0 || v >= V) atomicMin(first_bad, static_cast<int>(r));
  }
}

// y (R, D) <- rows of W (V, D); consecutive threads copy consecutive d of one row (coalesced).
template <typename I>
__global__ void embedding_forward_kernel(float* y, const I* idx, const float* W, int64_t R, int64_t D) {
  NK_GRID_STRIDE(e, R * D) {
    const int64_t r = e / D, d = e % D;
    y[e] = W[static_cast<int64_t>(idx[r]) * D + d];
  }
}

// dW (V, D) += scatter of dy (R, D). Two positions with the same index hit the same dW addresses:
// atomicAdd makes each += indivisible, so no update is lost (the order of the adds is not fixed).
template <typename I>
__global__ void embedding_backward_kernel(float* dW, const float* dy, const I* idx, int64_t R, int64_t D) {
  NK_GRID_STRIDE(e, R * D) {
    const int64_t r = e / D, d = e % D;
    atomicAdd(dW + static_cast<int64_t>(idx[r]) * D + d, dy[e]);
  }
}

// The references: one thread, position order (launched <<<1, 1>>>).
template <typename I>
__global__ void embedding_forward_naive_kernel(float* y, const I* idx, const float* W, int64_t R, int64_t D) {
  for (int64_t r = 0; r < R; ++r)
    for (int64_t d = 0; d < D; ++d) y[r * D + d] = W[static_cast<int64_t>(idx[r]) * D + d];
}

template <typename I>
__global__ void embedding_backward_naive_kernel(float* dW, const float* dy, const I* idx, int64_t R, int64_t D) {
  for (int64_t r = 0; r < R; ++r)
    for (int64_t d = 0; d < D; ++d) dW[static_cast<int64_t>(idx[r]) * D + d] += dy[r * D + d];
}

}  // namespace

template <typename I>
void embedding_check_indices(const I* idx, int64_t R, int64_t V) {
  if (R == 0) return;
  NK_CHECK(R <= INT_MAX, "embedding: at most 2^31 - 1 index positions per call on CUDA, got ", R);
  int* d_first = static_cast<int*>(device_alloc(sizeof(int)));
  int first = INT_MAX;
  I bad = 0;
  try {
    memcpy_h2d(d_first, &first, sizeof(int));
    NK_LAUNCH(embedding_bad_index_kernel<I>, grid_for(R), kThreads, 0, d_first, idx, R, V);
    NK_CHECK_LAUNCH("embedding_bad_index_kernel");
    memcpy_d2h(&first, d_first, sizeof(int));
    if (first != INT_MAX) memcpy_d2h(&bad, idx + first, sizeof(I));
  } catch (...) {
    device_free(d_first);
    throw;
  }
  device_free(d_first);
  NK_CHECK_INDEX(first == INT_MAX, "embedding: index ", static_cast<int64_t>(bad), " at flat position ", first,
                 " is out of range: indices must be in [0, input_dim=", V, ")");
}

template <typename I>
void embedding_forward(float* y, const I* idx, const float* W, int64_t R, int64_t V, int64_t D) {
  if (R * D == 0) return;
  NK_LAUNCH(embedding_forward_kernel<I>, grid_for(R * D), kThreads, 0, y, idx, W, R, D);
  NK_CHECK_LAUNCH("embedding_forward_kernel");
}

template <typename I>
void embedding_backward(float* dW, const float* dy, const I* idx, int64_t R, int64_t V, int64_t D) {
  if (R * D == 0) return;
  NK_LAUNCH(embedding_backward_kernel<I>, grid_for(R * D), kThreads, 0, dW, dy, idx, R, D);
  NK_CHECK_LAUNCH("embedding_backward_kernel");
}

template <typename I>
void embedding_forward_naive(float* y, const I* idx, const float* W, int64_t R, int64_t V, int64_t D) {
  if (R * D == 0) return;
  NK_LAUNCH(embedding_forward_naive_kernel<I>, 1, 1, 0, y, idx, W, R, D);
  NK_CHECK_LAUNCH("embedding_forward_naive_kernel");
}

template <typename I>
void embedding_backward_naive(float* dW, const float* dy, const I* idx, int64_t R, int64_t V, int64_t D) {
  if (R * D == 0) return;
  NK_LAUNCH(embedding_backward_naive_kernel<I>, 1, 1, 0, dW, dy, idx, R, D);
  NK_CHECK_LAUNCH("embedding_backward_naive_kernel");
}

#define NK_CUDA_EMBEDDING_INSTANTIATE(I)                                                                   \
  template void embedding_check_indices<I>(const I*, int64_t, int64_t);                                    \
  template void embedding_forward<I>(float*, const I*, const float*, int64_t, int64_t, int64_t);           \
  template void embedding_backward<I>(float*, const float*, const I*, int64_t, int64_t, int64_t);          \
  template void embedding_forward_naive<I>(float*, const I*, const float*, int64_t, int64_t, int64_t);     \
  template void embedding_backward_naive<I>(float*, const float*, const I*, int64_t, int64_t, int64_t);
NK_CUDA_EMBEDDING_INSTANTIATE(int32_t)
NK_CUDA_EMBEDDING_INSTANTIATE(int64_t)
#undef NK_CUDA_EMBEDDING_INSTANTIATE

}  // namespace nk::cuda
