// pool.h - 2-d max / average pooling and global average pooling over NHWC activations, on the GPU.
// Definitions, size letters and the padding rule are cpu/pool.h's (the geometry struct
// nk::Pool2dGeom is shared; the bindings compute it with nk::pool2d_geometry):
//   max_pool2d_forward          y  = max over the in-bounds window (padding never wins)
//   max_pool2d_backward         dx = dy routed to each window's FIRST maximum (row-major (kh, kw)),
//                               argmax recomputed from x. OVERWRITES dx.
//   avg_pool2d_forward          y  = mean over the in-bounds part of the window
//   avg_pool2d_backward         dx = sum over windows containing the position of dy / count. OVERWRITES dx.
//   global_avg_pool2d_forward   y[n,c] = mean over (h, w);  _backward: dx = dy / (H*W). OVERWRITES dx.
// Pointers are device pointers.
#pragma once
#include <cstdint>

#include "cpu/pool.h"

namespace nk::cuda {

// Variants of the backwards (tests run both); forwards have one kernel (a thread per output):
//   naive  - one thread per dy element scattering into a zeroed dx with atomicAdd: the CPU
//            reference loop made race-free by atomics (the summation order varies run to run).
//   gather - (default) one thread per dx element summing the windows that contain it, in (oh, ow)
//            order: no atomics, deterministic.
enum class PoolVariant { naive, gather };

void max_pool2d_forward(float* y,          // (N, OH, OW, C)
                        const float* x,    // (N, H, W, C)
                        const Pool2dGeom& g);
void max_pool2d_backward(float* dx,        // (N, H, W, C)   overwritten
                         const float* dy,  // (N, OH, OW, C)
                         const float* x,   // (N, H, W, C)   the forward input
                         const Pool2dGeom& g, PoolVariant variant = PoolVariant::gather);
void avg_pool2d_forward(float* y,          // (N, OH, OW, C)
                        const float* x,    // (N, H, W, C)
                        const Pool2dGeom& g);
void avg_pool2d_backward(float* dx,        // (N, H, W, C)   overwritten
                         const float* dy,  // (N, OH, OW, C)
                         const Pool2dGeom& g, PoolVariant variant = PoolVariant::gather);
void global_avg_pool2d_forward(float* y,         // (N, C)
                               const float* x,   // (N, HW, C)  HW = H*W
                               int64_t N, int64_t HW, int64_t C);
void global_avg_pool2d_backward(float* dx,        // (N, HW, C)  overwritten
                                const float* dy,  // (N, C)
                                int64_t N, int64_t HW, int64_t C);

}  // namespace nk::cuda
