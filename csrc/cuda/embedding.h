// embedding.h - Embedding lookup and its scatter-add backward on the device (the CUDA twin of
// cpu/embedding.h).
//
// Size letters: R index positions (any leading shape flattened), V vocabulary rows (input_dim),
// D embedding width (output_dim).
//
//   forward:   y[r, :] = W[idx[r], :]                 y (R, D) overwritten
//   backward:  dW[idx[r], :] += dy[r, :]              dW (V, D) ACCUMULATED (parameter gradient)
// Indices are int32 or int64 device arrays and must lie in [0, V): embedding_check_indices scans
// them on the device and throws IndexError naming the first bad value and its position (the same
// message as the CPU); the binding calls it before any kernel writes.
//
// Variants:
//   atomic ("auto") - forward: one thread per element of y; backward: one thread per element of dy,
//                     atomicAdd into dW, so repeated indices are safe (the summation order of a
//                     repeated row is not fixed: results may differ from the CPU by rounding)
//   naive           - one thread runs the plain loops in position order (the reference; same order
//                     as the CPU, so bit-identical to it, and slow)
#pragma once
#include <cstdint>

namespace nk::cuda {

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

}  // namespace nk::cuda
