// batchnorm.h - batch normalization over the last (channel) axis on the GPU, input seen as (M, C).
// Definitions, size letters and the argument order are cpu/batchnorm.h's (the argument block
// nk::BatchNormArgs is shared):
//   forward, training:  mean / biased var over the M rows, invstd = 1/sqrt(var + eps),
//                       y = gamma (x - mean) invstd + beta; moving_* = moving_* momentum + batch (1 - momentum)
//   forward, inference: mean = moving_mean, invstd = 1/sqrt(moving_var + eps), y as above
//   backward:           training  dx = gamma invstd / M (M dy - sum dy - xhat sum dy xhat)
//                       inference dx = gamma invstd dy;  dgamma += sum dy xhat,  dbeta += sum dy
//   dx is OVERWRITTEN; dgamma / dbeta ACCUMULATE. gamma / beta / dgamma / dbeta may be null.
// Pointers are device pointers.
#pragma once
#include <cstdint>

#include "cpu/batchnorm.h"

namespace nk::cuda {

// Variants (tests run both):
//   naive - one thread per channel looping over the M rows in double: the CPU reference on the GPU.
//   rows  - (default) column sums by (32 channels x 8 row-stripes) blocks over chunks of rows,
//           partials in double combined in a fixed order (deterministic); training statistics in two
//           passes (mean, then sums of (x - mean) and (x - mean)^2); element-wise normalize / dx.
enum class BatchNormVariant { naive, rows };

void batch_norm_forward(float* y,             // (M, C)
                        float* mean,          // (C,)  batch (training) or moving mean
                        float* invstd,        // (C,)
                        const float* x,       // (M, C)
                        const float* gamma,   // (C,) or null
                        const float* beta,    // (C,) or null
                        float* moving_mean,   // (C,)  updated in place when training
                        float* moving_var,    // (C,)  updated in place when training
                        const BatchNormArgs& a, BatchNormVariant variant = BatchNormVariant::rows);
void batch_norm_backward(float* dx,           // (M, C)  overwritten
                         float* dgamma,       // (C,) or null, accumulated
                         float* dbeta,        // (C,) or null, accumulated
                         const float* dy,     // (M, C)
                         const float* x,      // (M, C)
                         const float* gamma,  // (C,) or null
                         const float* mean,   // (C,)
                         const float* invstd, // (C,)
                         int64_t M, int64_t C, bool training,
                         BatchNormVariant variant = BatchNormVariant::rows);

}  // namespace nk::cuda
