// image.h - affine image resampling on the GPU (NHWC), for the augmentation layers (RandomTranslation,
// RandomRotation, RandomZoom, RandomFlip). Same names, arguments, size letters and sampling rules as
// cpu/image.h (the enums nk::ImageInterpolation / nk::ImageFillMode are shared): input (N, H, W, C),
// output (N, OH, OW, C), one 2x3 matrix t[n] = [a0 a1 a2 b0 b1 b2] per image mapping OUTPUT pixel
// (i, j) to INPUT column u = a0*j + a1*i + a2 and row v = b0*j + b1*i + b2.
//   affine_transform2d_forward   y = x sampled at (v, u) (fill mode, then nearest / bilinear taps)
//   affine_transform2d_backward  dx = the adjoint of that sampling applied to dy. OVERWRITES dx.
// Pointers (t included) are device pointers.
#pragma once
#include <cstdint>

#include "cpu/image.h"

namespace nk::cuda {

// Variants: the backward has one, `naive` - one thread per dy element; dx is zeroed first and each
// thread atomicAdds weight * dy into the (up to 4) dx elements its output pixel read (the CPU
// reference loop made race-free by atomics; the summation order varies run to run).
void affine_transform2d_forward(float* y,          // (N, OH, OW, C)
                                const float* x,    // (N, H, W, C)
                                const float* t,    // (N, 6)
                                int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                                ImageInterpolation interpolation, ImageFillMode fill_mode, float fill_value);

void affine_transform2d_backward(float* dx,        // (N, H, W, C)   overwritten
                                 const float* dy,  // (N, OH, OW, C)
                                 const float* t,   // (N, 6)
                                 int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                                 ImageInterpolation interpolation, ImageFillMode fill_mode);

}  // namespace nk::cuda
