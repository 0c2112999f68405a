// conv.h - 2-d convolution and transposed convolution on the GPU (csrc/cuda/conv.cu): the CUDA
// twin of csrc/cpu/conv.h, same names, layouts and accumulate / overwrite rules.
//
// Size letters (as csrc/cpu/conv.h):
//   N batch, H W input height/width, C input channels, F output channels (filters),
//   KH KW kernel height/width, SH SW strides, DH DW dilations, PT PL padding before (top/left),
//   OH OW output height/width: OH = (H + PT + PB - DH*(KH-1) - 1) / SH + 1 (likewise OW).
// Tensors (all pointers are DEVICE pointers, contiguous):
//   x  (N, H, W, C)    w (KH, KW, C, F)    b (F)    y (N, OH, OW, F)
//   y[n,oh,ow,f] = b[f] + sum_{kh,kw,c} x[n, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW, c] * w[kh,kw,c,f]
//
//   conv2d_forward           y = conv(x, w) + b       overwrites y (b may be null)
//   conv2d_backward_data     dx = dL/dx               OVERWRITES dx
//   conv2d_backward_weights  dw += dL/dw, db += sum dy ACCUMULATE (parameter gradients; db may be null)
// The transposed convolution reuses the three with roles exchanged (see csrc/cpu/conv.h).
//
// Variants (conv2d_variants(); "auto" picks the last, the fastest):
//   naive       one thread per output element, plain loops over the taps (the reference)
//   smem_tiled  implicit GEMM: 64x64 output tiles, 16-deep K slices of the virtual im2col matrix
//               gathered into shared memory, 4x4 register micro-tiles per thread; weight gradients
//               split K over blocks into a scratch buffer summed in a fixed order (deterministic)
#pragma once
#include <cstdint>
#include <vector>

namespace nk::cuda {

struct ConvShape {
  int64_t N, H, W, C, F;
  int64_t KH, KW, SH, SW, DH, DW;
  int64_t PT, PL;  // padding before (top, left); the padding after is implied by OH, OW
  int64_t OH, OW;
};

// Output length along one axis for explicit padding, or 0 when the dilated kernel does not fit.
inline int64_t conv_out_len(int64_t in, int64_t k, int64_t s, int64_t d, int64_t before, int64_t after) {
  const int64_t span = in + before + after - d * (k - 1) - 1;
  return span < 0 ? 0 : span / s + 1;
}

struct ConvVariantInfo {
  const char* name;         // "naive", "smem_tiled"
  const char* description;  // one line, as in the file header
};
// The same list serves the three ops (forward, backward_data, backward_weights), simplest first.
const std::vector<ConvVariantInfo>& conv2d_variants();

// `variant` is a registered name or "auto"; unknown names throw ValueError listing the known ones.
// Shapes with a zero dimension are handled (no kernel sees them). Sizes must fit 32-bit indexing
// (each tensor < 2^31 elements), else ValueError.
void conv2d_forward(float* y,        // (N, OH, OW, F)  overwritten
                    const float* x,  // (N, H, W, C)
                    const float* w,  // (KH, KW, C, F)
                    const float* b,  // (F) or null
                    const ConvShape& s, const char* variant = "auto");
void conv2d_backward_data(float* dx,        // (N, H, W, C)   overwritten
                          const float* dy,  // (N, OH, OW, F)
                          const float* w,   // (KH, KW, C, F)
                          const ConvShape& s, const char* variant = "auto");
void conv2d_backward_weights(float* dw,        // (KH, KW, C, F) accumulated
                             float* db,        // (F) accumulated, or null
                             const float* dy,  // (N, OH, OW, F)
                             const float* x,   // (N, H, W, C)
                             const ConvShape& s, const char* variant = "auto");

// Transposed convolution; `s` describes the conv2d it is the transpose of (csrc/cpu/conv.h).
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

// db[j] += sum_r dy[r, j] over a row-major (R, J) matrix, summed in a fixed order (a bias gradient;
// also used by the recurrent kernels).
void column_sums_acc(float* db,        // (J) accumulated
                     const float* dy,  // (R, J)
                     int64_t R, int64_t J);

}  // namespace nk::cuda
