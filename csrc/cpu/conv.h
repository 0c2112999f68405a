// conv.h - 2-d convolution (cross-correlation, as Keras/TF/PyTorch) on NHWC activations with Keras
// kernel layout, and the transposed convolution, which is the same three kernels with roles swapped.
//
// Size letters:
//   N batch, H W input height/width, C input channels, F output channels (filters),
//   KH KW kernel height/width, SH SW strides, DH DW dilations, PT PL padding before (top/left)
//   (the padding after, PB PR, only matters through OH OW), OH OW output height/width:
//     OH = (H + PT + PB - DH*(KH-1) - 1) / SH + 1          (likewise OW)
//   P = N*OH*OW output pixels, KC = KH*KW*C the length of one im2col row.
// Tensors:
//   x  (N, H, W, C)    w (KH, KW, C, F)    b (F)    y (N, OH, OW, F)
//   y[n,oh,ow,f] = b[f] + sum_{kh,kw,c} x[n, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW, c] * w[kh,kw,c,f]
//   (x is zero outside the image).
//
//   conv2d_forward           y = conv(x, w) + b                 (overwrites y; b may be null)
//   conv2d_backward_data     dx = d(sum y*dy)/dx                OVERWRITES dx
//   conv2d_backward_weights  dw += d(sum y*dy)/dw               ACCUMULATES dw (a parameter gradient)
//                            db += sum_{n,oh,ow} dy             ACCUMULATES db (db may be null)
//
// Transposed convolution (Keras Conv2DTranspose, kernel (KH, KW, F_t, C_t)): its forward is
// conv2d_backward_data with the transposed conv's input as dy and its output as dx, its
// backward-data is conv2d_forward, and its backward-weights is conv2d_backward_weights with the
// roles of x and dy exchanged; the Python op (ops/conv.py) and binding only swap arguments.
//
// Variants (one table per op, simplest first; the dispatcher takes the last one the active ISA can
// run; every variant accepts every shape, direct_avx512 hands the ones it does not suit to
// im2col_gemm itself):
//   naive        direct 7-loop reference (forward: per output, sum over kh, kw, c; backward-data:
//                scatter each dy into dx; backward-weights: per weight, sum over n, oh, ow).
//   im2col_gemm  the batch is cut into chunks of whole output rows (a few hundred KB of scratch per
//                thread); each chunk is unfolded into col (rows, KC) and multiplied with nk::gemm:
//                  forward:          y_chunk = col @ w(KC, F) (+ b)
//                  backward-data:    dcol = dy_chunk @ w^T, then col2im scatter-adds dcol into dx
//                  backward-weights: dw(KC, F) += col^T @ dy_chunk
//                A 1x1, stride-1, unpadded conv skips the unfolding (x itself is col).
//                Threads take whole chunks (nk::gemm runs single-threaded inside them); dx chunks that
//                could overlap are processed in two phases (even chunks, then odd), dw is summed in
//                per-thread buffers and reduced in a fixed order, so results do not depend on timing.
//   direct_avx512 (conv_avx512.cpp) forward: implicit GEMM, an MR-pixel x 16*NV-filter register
//                tile reads the weights in place (Keras layout is already row-major (KC, F)) and the
//                input from a zero-padded copy of the rows a chunk needs; no im2col, no packing.
//                backward-data: at stride 1 the same kernel on dy with flipped, transposed taps;
//                strided convs and C < 16 fall back to im2col_gemm. backward-weights: per tap a
//                14-channel x 32-filter register tile summed over all pixels of a chunk (broadcasts of
//                consecutive channels, loads of dy); for C < 16 the same tile runs over an im2col
//                chunk instead (14 consecutive taps x channels).
//                Measured, 1 thread, CPU time (GFLOPS, im2col_gemm -> direct_avx512): 32x56x56x64->64
//                3x3 fwd 98 -> 137, bwd-data 102 -> 137, bwd-weights 88 -> 128; 8x56x56x128->128 fwd
//                115 -> 141; 8x224x224x3->64 fwd 41 -> 76, bwd-weights 41 -> 46; 64x14x14x6->16 5x5
//                valid fwd 46 -> 80, bwd-weights 38 -> 62; 64x28x28x1->6 5x5 bwd-weights 5.7 -> 7.0. im2col_gemm
//                pays for unfolding and then packing the unfolded matrix again inside nk::gemm.
//                F < 16, C <= 8 at horizontal stride 1 (forward; backward-weights when F is 1, 2, 3, 4, 6, 8 or
//                12) goes to the lane-packed kernels of conv_lanes_avx512.cpp, which fill all 16 lanes
//                with (pixel, filter) pairs instead of F of 16 with filters.
#pragma once
#include <cstdint>
#include <vector>

#include "core/cpu_features.h"

namespace nk {

struct ConvShape {
  int64_t N, H, W, C, F;
  int64_t KH, KW, SH, SW, DH, DW;
  int64_t PT, PL;  // padding before (top, left); the padding after is implied by OH, OW
  int64_t OH, OW;
};

// Output length along one axis for explicit padding: (in + before + after - d*(k-1) - 1) / s + 1,
// or 0 when the dilated kernel does not fit (the binding reports that as an error).
int64_t conv_out_len(int64_t in, int64_t k, int64_t s, int64_t d, int64_t before, int64_t after);

using ConvForwardFn = void (*)(float* y,                        // (N, OH, OW, F)
                               const float* x,                  // (N, H, W, C)
                               const float* w,                  // (KH, KW, C, F)
                               const float* b,                  // (F) or null
                               const ConvShape& s);
using ConvBackwardDataFn = void (*)(float* dx,                  // (N, H, W, C)   overwritten
                                    const float* dy,            // (N, OH, OW, F)
                                    const float* w,             // (KH, KW, C, F)
                                    const ConvShape& s);
using ConvBackwardWeightsFn = void (*)(float* dw,               // (KH, KW, C, F) accumulated
                                       float* db,               // (F) accumulated, or null
                                       const float* dy,         // (N, OH, OW, F)
                                       const float* x,          // (N, H, W, C)
                                       const ConvShape& s);

template <class Fn>
struct ConvVariant {
  const char* name;         // "naive", "im2col_gemm"
  Isa isa;                  // lowest ISA the variant needs
  const char* description;  // one line, as in the file header
  Fn fn;
};

const std::vector<ConvVariant<ConvForwardFn>>& conv2d_forward_variants();
const std::vector<ConvVariant<ConvBackwardDataFn>>& conv2d_backward_data_variants();
const std::vector<ConvVariant<ConvBackwardWeightsFn>>& conv2d_backward_weights_variants();

// Dispatchers: `variant` is a registered name or "auto" (fastest for active_isa()); unknown names
// or names needing a higher ISA throw ValueError. Shapes with a zero dimension are handled here.
void conv2d_forward(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                    const char* variant = "auto");
void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvShape& s,
                          const char* variant = "auto");
void conv2d_backward_weights(float* dw, float* db, const float* dy, const float* x, const ConvShape& s,
                             const char* variant = "auto");

// Transposed convolution. `s` describes the conv2d this is the transpose of: the transposed conv's
// input xt (N, OH, OW, F) plays dy, its output yt (N, H, W, C) plays dx, and its Keras kernel
// (KH, KW, C, F) is w unchanged. Bias bt has C entries.
void conv2d_transpose_forward(float* yt,        // (N, H, W, C)   overwritten
                              const float* xt,  // (N, OH, OW, F)
                              const float* w,   // (KH, KW, C, F)
                              const float* bt,  // (C) or null
                              const ConvShape& s, const char* variant = "auto");
void conv2d_transpose_backward_data(float* dxt,        // (N, OH, OW, F)  overwritten
                                    const float* dyt,  // (N, H, W, C)
                                    const float* w,    // (KH, KW, C, F)
                                    const ConvShape& s, const char* variant = "auto");
void conv2d_transpose_backward_weights(float* dw,         // (KH, KW, C, F) accumulated
                                       float* dbt,        // (C) accumulated, or null
                                       const float* dyt,  // (N, H, W, C)
                                       const float* xt,   // (N, OH, OW, F)
                                       const ConvShape& s, const char* variant = "auto");

// Helper shared by conv.cpp and conv_avx512.cpp: unfold output rows [r0, r1) of the flattened
// (N*OH) rows into col ((r1 - r0) * OW, KC), zeros where a tap falls in the padding.
void conv_im2col_rows(float* col,      // ((r1 - r0) * OW, KC)
                      const float* x,  // (N, H, W, C)
                      const ConvShape& s, int64_t r0, int64_t r1);

// The variants themselves (conv.cpp).
void conv2d_forward_naive(float* y, const float* x, const float* w, const float* b, const ConvShape& s);
void conv2d_backward_data_naive(float* dx, const float* dy, const float* w, const ConvShape& s);
void conv2d_backward_weights_naive(float* dw, float* db, const float* dy, const float* x,
                                   const ConvShape& s);
void conv2d_forward_im2col_gemm(float* y, const float* x, const float* w, const float* b,
                                const ConvShape& s);
// conv_avx512.cpp: implicit GEMM, weights read in place, input from a zero-padded row copy.
void conv2d_forward_direct_avx512(float* y, const float* x, const float* w, const float* b,
                                  const ConvShape& s);
void conv2d_backward_data_direct_avx512(float* dx, const float* dy, const float* w, const ConvShape& s);
void conv2d_backward_weights_direct_avx512(float* dw, float* db, const float* dy, const float* x,
                                           const ConvShape& s);
// conv_lanes_avx512.cpp: F < 16 filters, C <= 8 channels, horizontal stride 1 (first layers): a
// vector holds 16 consecutive (pixel, filter) outputs of a row instead of F filters of one pixel.
// direct_avx512 hands these shapes over when conv2d_lanes_fits() says so.
bool conv2d_lanes_fits(const ConvShape& s, bool backward_weights);
void conv2d_forward_lanes_avx512(float* y, const float* x, const float* w, const float* b,
                                 const ConvShape& s);
void conv2d_backward_weights_lanes_avx512(float* dw, float* db, const float* dy, const float* x,
                                          const ConvShape& s);
void conv2d_backward_data_im2col_gemm(float* dx, const float* dy, const float* w, const ConvShape& s);
void conv2d_backward_weights_im2col_gemm(float* dw, float* db, const float* dy, const float* x,
                                         const ConvShape& s);

}  // namespace nk
