// batchnorm.h - batch normalization over the last (channel) axis of any-rank input, seen as (M, C).
//
// Size letters: M rows (every axis but the last, flattened), C channels (contiguous).
//   batch_norm_forward, training:
//     mean[c]   = sum_m x[m,c] / M,  var[c] = sum_m (x[m,c] - mean[c])^2 / M   (biased, as Keras)
//     invstd[c] = 1 / sqrt(var[c] + eps)
//     y[m,c]    = gamma[c] * (x[m,c] - mean[c]) * invstd[c] + beta[c]
//     moving_mean[c] = moving_mean[c] * momentum + mean[c] * (1 - momentum)   (updated IN PLACE,
//     moving_var[c]  = moving_var[c]  * momentum + var[c]  * (1 - momentum)    as Keras)
//   batch_norm_forward, inference: mean = moving_mean, invstd = 1 / sqrt(moving_var + eps) (written
//     to mean / invstd for symmetry), y as above; moving statistics untouched.
//   batch_norm_backward (xhat = (x - mean) * invstd):
//     training:  dx[m,c] = gamma[c] * invstd[c] / M * (M * dy - sum_m dy - xhat * sum_m dy * xhat)
//     inference: dx[m,c] = gamma[c] * invstd[c] * dy    (statistics are constants)
//     dgamma[c] += sum_m dy * xhat,  dbeta[c] += sum_m dy
//   dx is OVERWRITTEN; dgamma and dbeta ACCUMULATE. gamma == nullptr means 1 (scale=False),
//   beta == nullptr means 0 (center=False), dgamma / dbeta == nullptr are skipped.
//
// Variants (tests run both on every ISA):
//   naive - per channel, double-precision sums: the reference.
//   rows  - (dispatcher default) row-major passes with C-vector inner loops (vectorised by -O3 in the
//           SSE2 / AVX2 / AVX-512 builds of cpu/batchnorm_kernels.inc); the channel sums are split
//           over threads by rows, summed in float within blocks of 64 rows and in double across
//           blocks and threads. Training statistics take one pass of sums shifted by K, the mean of
//           the first 64 rows (var = E[(x-K)^2] - E[x-K]^2 cancels little since K is near the mean);
//           y uses the float32 mean plus the double residual the float could not hold.
#pragma once
#include <cstdint>

namespace nk {

struct BatchNormArgs {
  int64_t M, C;
  bool training;
  float momentum, eps;
};

void batch_norm_forward(float* y,               // (M, C)
                        float* mean,            // (C,)  batch (training) or moving mean
                        float* invstd,          // (C,)  1 / sqrt(var + eps)
                        const float* x,         // (M, C)
                        const float* gamma,     // (C,) or nullptr
                        const float* beta,      // (C,) or nullptr
                        float* moving_mean,     // (C,)  updated in place when training
                        float* moving_var,      // (C,)  updated in place when training
                        const BatchNormArgs& a);
void batch_norm_backward(float* dx,             // (M, C)  overwritten
                         float* dgamma,         // (C,) or nullptr, accumulated
                         float* dbeta,          // (C,) or nullptr, accumulated
                         const float* dy,       // (M, C)
                         const float* x,        // (M, C)
                         const float* gamma,    // (C,) or nullptr
                         const float* mean,     // (C,)  from the forward
                         const float* invstd,   // (C,)  from the forward
                         int64_t M, int64_t C, bool training);

void batch_norm_forward_naive(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                              const float* beta, float* moving_mean, float* moving_var, const BatchNormArgs& a);
void batch_norm_backward_naive(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                               const float* gamma, const float* mean, const float* invstd, int64_t M,
                               int64_t C, bool training);

// Pieces of the rows variant, compiled once per ISA (cpu/batchnorm_kernels.inc):
//   channel_sums  b == nullptr: s1[c] = sum_m (a[m,c] - ctr[c]), s2[c] = sum_m (a[m,c] - ctr[c])^2
//                 b != nullptr: s1[c] = sum_m a[m,c],            s2[c] = sum_m a[m,c] * (b[m,c] - ctr[c])
//                 (ctr == nullptr means 0; s2 may be nullptr when b == nullptr); threads split the rows
//   normalize     y[m,c]  = (x[m,c] - mean[c]) * scale[c] + shift[c]
//   backward_dx   dx[m,c] = k1[c] * dy[m,c] - k0[c] - k2[c] * (x[m,c] - mean[c])
#define NK_BATCHNORM_KERNEL_DECLS                                                                        \
  void channel_sums(double* s1, double* s2, const float* a, const float* b, const float* ctr, int64_t M,  \
                    int64_t C);                                                                           \
  void normalize(float* y, const float* x, const float* mean, const float* scale, const float* shift,    \
                 int64_t M, int64_t C);                                                                   \
  void backward_dx(float* dx, const float* dy, const float* x, const float* mean, const float* k0,        \
                   const float* k1, const float* k2, int64_t M, int64_t C);
namespace batchnorm_sse2 { NK_BATCHNORM_KERNEL_DECLS }
namespace batchnorm_avx2 { NK_BATCHNORM_KERNEL_DECLS }
namespace batchnorm_avx512 { NK_BATCHNORM_KERNEL_DECLS }
#undef NK_BATCHNORM_KERNEL_DECLS

}  // namespace nk
