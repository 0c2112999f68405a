// pool.h - 2-d max / average pooling and global average pooling over NHWC activations.
//
// Size letters: N batch, H x W input rows x columns, C channels (contiguous), OH x OW output,
// KH x KW pool window, SH x SW strides, PT / PL padding rows above / columns left of the input.
//   oh, ow index outputs; the window of (oh, ow) covers input rows h = oh*SH - PT + [0, KH) and
//   columns w = ow*SW - PL + [0, KW); positions outside [0, H) x [0, W) are padding.
//
//   max_pool2d_forward          y[n,oh,ow,c]  = max over the in-bounds window of x[n,h,w,c]
//                               (padding never wins: it acts as -inf, as TF/Keras)
//   max_pool2d_backward         dx[n,h,w,c]   = sum over windows whose FIRST maximum (row-major
//                               (kh, kw) order) is (h, w) of dy[n,oh,ow,c]; the argmax is recomputed
//                               from x. OVERWRITES dx.
//   avg_pool2d_forward          y[n,oh,ow,c]  = sum over the in-bounds window / count, count = the
//                               number of in-bounds positions ('same' as TF/Keras: padding not counted)
//   avg_pool2d_backward         dx[n,h,w,c]   = sum over windows containing (h, w) of dy / count.
//                               OVERWRITES dx.
//   global_avg_pool2d_forward   y[n,c]        = mean over (h, w) of x[n,h,w,c]
//   global_avg_pool2d_backward  dx[n,h,w,c]   = dy[n,c] / (H*W).  OVERWRITES dx.
// No parameters, so nothing accumulates.
//
// Padding (pool2d_geometry): 'valid' -> OH = (H - KH) / SH + 1, no padding (KH <= H required);
// 'same' -> OH = ceil(H / SH), total = max((OH-1)*SH + KH - H, 0), PT = total / 2 (the TF rule; the
// extra row, if any, goes below). Every window then holds at least one input position.
//
// Variants (every op has both; tests run both on every ISA):
//   naive - one output element at a time, plain loops over the window: the reference.
//   nhwc  - (dispatcher default) whole C-vectors per window position, so the innermost loop runs
//           over contiguous channels (SSE2 / AVX2 / AVX-512 builds of cpu/pool_kernels.inc chosen on
//           nk::active_isa()); the compiler vectorises the plain channel loops, and the max-pool
//           backward routing is written with explicit vectors (cpu/pool_simd.inc, masked tails).
//           Forwards: OpenMP over the N*OH output rows. Backwards with non-overlapping windows
//           (strides >= pool): also over output rows, each owning a band of input rows and storing
//           dx directly; with overlap: per image (avg: per image and channel block), dx zeroed
//           then accumulated, tasks writing disjoint parts of dx.
#pragma once
#include <cstdint>

namespace nk {

struct Pool2dGeom {
  int64_t N, H, W, C;    // input (N, H, W, C)
  int64_t OH, OW;        // output (N, OH, OW, C)
  int64_t KH, KW;        // window
  int64_t SH, SW;        // strides
  int64_t PT, PL;        // padding above / left (the rest, if any, is below / right)
};

// Output size and padding for the 'valid' or 'same' rule; throws ValueError on sizes < 1 or a
// 'valid' window larger than the input.
Pool2dGeom pool2d_geometry(int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW,
                           int64_t SH, int64_t SW, bool same);

// Dispatchers (the nhwc variant for the active ISA).
void max_pool2d_forward(float* y,          // (N, OH, OW, C)
                        const float* x,    // (N, H, W, C)
                        const Pool2dGeom& g);
void max_pool2d_backward(float* dx,        // (N, H, W, C)   overwritten
                         const float* dy,  // (N, OH, OW, C)
                         const float* x,   // (N, H, W, C)   the forward input (argmax recomputed)
                         const Pool2dGeom& g);
void avg_pool2d_forward(float* y,          // (N, OH, OW, C)
                        const float* x,    // (N, H, W, C)
                        const Pool2dGeom& g);
void avg_pool2d_backward(float* dx,        // (N, H, W, C)   overwritten
                         const float* dy,  // (N, OH, OW, C)
                         const Pool2dGeom& g);
void global_avg_pool2d_forward(float* y,         // (N, C)
                               const float* x,   // (N, HW, C)  HW = H*W
                               int64_t N, int64_t HW, int64_t C);
void global_avg_pool2d_backward(float* dx,        // (N, HW, C)  overwritten
                                const float* dy,  // (N, C)
                                int64_t N, int64_t HW, int64_t C);

// References (same arguments).
void max_pool2d_forward_naive(float* y, const float* x, const Pool2dGeom& g);
void max_pool2d_backward_naive(float* dx, const float* dy, const float* x, const Pool2dGeom& g);
void avg_pool2d_forward_naive(float* y, const float* x, const Pool2dGeom& g);
void avg_pool2d_backward_naive(float* dx, const float* dy, const Pool2dGeom& g);
void global_avg_pool2d_forward_naive(float* y, const float* x, int64_t N, int64_t HW, int64_t C);
void global_avg_pool2d_backward_naive(float* dx, const float* dy, int64_t N, int64_t HW, int64_t C);

// The nhwc variant, compiled once per ISA from cpu/pool_kernels.inc.
#define NK_POOL_KERNEL_DECLS                                                                         \
  void max_pool2d_forward(float* y, const float* x, const Pool2dGeom& g);                            \
  void max_pool2d_backward(float* dx, const float* dy, const float* x, const Pool2dGeom& g);         \
  void avg_pool2d_forward(float* y, const float* x, const Pool2dGeom& g);                            \
  void avg_pool2d_backward(float* dx, const float* dy, const Pool2dGeom& g);                         \
  void global_avg_pool2d_forward(float* y, const float* x, int64_t N, int64_t HW, int64_t C);        \
  void global_avg_pool2d_backward(float* dx, const float* dy, int64_t N, int64_t HW, int64_t C);
namespace pool_sse2 { NK_POOL_KERNEL_DECLS }
namespace pool_avx2 { NK_POOL_KERNEL_DECLS }
namespace pool_avx512 { NK_POOL_KERNEL_DECLS }
#undef NK_POOL_KERNEL_DECLS

}  // namespace nk
