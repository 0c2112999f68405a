// upsample.h - UpSampling2D over NHWC activations: nearest (repeat) and bilinear (half-pixel).
//
// Size letters: N batch, H x W input, C channels (contiguous), SH x SW integer factors,
// OH = H*SH x OW = W*SW output.
//   upsampling2d_forward   nearest:  y[n,oh,ow,c] = x[n, oh/SH, ow/SW, c]
//                          bilinear: tf.image.resize(..., 'bilinear') with half_pixel_centers, as
//                          Keras UpSampling2D: for each axis, src = (o + 0.5) / S - 0.5,
//                          lo = max(floor(src), 0), hi = min(ceil(src), H-1), f = src - floor(src);
//                          top = x[lo_h,lo_w] + (x[lo_h,hi_w] - x[lo_h,lo_w]) * f_w (likewise bottom
//                          with hi_h), y = top + (bottom - top) * f_h. (Equals PyTorch
//                          interpolate(mode='bilinear', align_corners=False): edges clamp.)
//   upsampling2d_backward  dx = the transpose: each dy[n,oh,ow,c] is added to the input positions
//                          the forward read, with the forward's weights. OVERWRITES dx.
// No parameters, so nothing accumulates.
//
// Variants (tests run both on every ISA):
//   naive - one output element at a time: the reference.
//   nhwc  - (dispatcher default) C-vector inner loops the compiler vectorises (cpu/upsample_kernels.inc
//           built for SSE2 / AVX2 / AVX-512). Forward and nearest backward (a gather: each dx
//           element sums its SH x SW block of dy) run OpenMP over rows; bilinear backward scatters,
//           so it splits over (image, channel block) tasks.
#pragma once
#include <cstdint>

namespace nk {

struct Upsample2dGeom {
  int64_t N, H, W, C;  // input
  int64_t SH, SW;      // factors; the output is (N, H*SH, W*SW, C)
  bool bilinear;       // false: nearest
};

// Source rows (or columns) of bilinear output index o: lo, hi and the weight f of hi.
void upsample_bilinear_coeff(int64_t o, int64_t S, int64_t in, int64_t* lo, int64_t* hi, float* f);

void upsampling2d_forward(float* y,        // (N, H*SH, W*SW, C)
                          const float* x,  // (N, H, W, C)
                          const Upsample2dGeom& g);
void upsampling2d_backward(float* dx,        // (N, H, W, C)   overwritten
                           const float* dy,  // (N, H*SH, W*SW, C)
                           const Upsample2dGeom& g);
void upsampling2d_forward_naive(float* y, const float* x, const Upsample2dGeom& g);
void upsampling2d_backward_naive(float* dx, const float* dy, const Upsample2dGeom& g);

#define NK_UPSAMPLE_KERNEL_DECLS                                                \
  void upsampling2d_forward(float* y, const float* x, const Upsample2dGeom& g); \
  void upsampling2d_backward(float* dx, const float* dy, const Upsample2dGeom& g);
namespace upsample_sse2 { NK_UPSAMPLE_KERNEL_DECLS }
namespace upsample_avx2 { NK_UPSAMPLE_KERNEL_DECLS }
namespace upsample_avx512 { NK_UPSAMPLE_KERNEL_DECLS }
#undef NK_UPSAMPLE_KERNEL_DECLS

}  // namespace nk
