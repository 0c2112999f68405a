// embedding.h - Embedding lookup (Keras Embedding) and its scatter-add backward.
//
// Size letters: R index positions (N*T, any leading shape flattened), V vocabulary rows (input_dim),
// D embedding width (output_dim).
//
//   forward:   y[r, :] = W[idx[r], :]                 y (R, D) overwritten
//   backward:  dW[idx[r], :] += dy[r, :]              dW (V, D) ACCUMULATED (parameter gradient)
// Indices are int32 or int64 and must lie in [0, V): embedding_check_indices throws IndexError naming
// the first bad value and its position; the binding calls it before any kernel writes.
//
// Variants:
//   naive         - one loop over positions (reference)
//   rows_parallel - forward splits positions over threads; backward gives each thread a block of
//                   vocabulary rows and every thread scans all indices, adding only the ones in its
//                   block: repeated indices never race, and each dW row sums in position order
//                   (deterministic, identical to the naive order)
#pragma once
#include <cstdint>

namespace nk {

template <typename I>
void embedding_check_indices(const I* idx, int64_t R, int64_t V);  // int32_t, int64_t

template <typename I>
void embedding_forward(float* y,          // (R, D) out
                       const I* idx,      // (R,) in [0, V)
                       const float* W,    // (V, D)
                       int64_t R, int64_t V, int64_t D);
template <typename I>
void embedding_backward(float* dW,        // (V, D) accumulated
                        const float* dy,  // (R, D)
                        const I* idx,     // (R,)
                        int64_t R, int64_t V, int64_t D);

template <typename I>
void embedding_forward_naive(float* y, const I* idx, const float* W, int64_t R, int64_t V, int64_t D);
template <typename I>
void embedding_backward_naive(float* dW, const float* dy, const I* idx, int64_t R, int64_t V, int64_t D);

}  // namespace nk
