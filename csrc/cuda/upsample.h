// upsample.h - UpSampling2D on the GPU (NHWC): nearest (repeat) and bilinear (half-pixel, as Keras /
// tf.image.resize). Definitions and size letters as cpu/upsample.h (the geometry struct
// nk::Upsample2dGeom is shared): input (N, H, W, C), factors SH x SW, output (N, H*SH, W*SW, C).
//   upsampling2d_forward   y = x upsampled
//   upsampling2d_backward  dx = the transpose applied to dy. OVERWRITES dx.
// Pointers are device pointers.
#pragma once
#include <cstdint>

#include "cpu/upsample.h"

namespace nk::cuda {

// Variants (tests run every one):
//   naive  - one thread per element of y / dy; the backward scatters dy into a zeroed dx with
//            atomicAdd (the CPU reference loop, made race-free by atomics; sum order varies).
//   gather - (default) forward as naive; the backward gives each dx element one thread that sums the
//            dy elements that read it (nearest: its SH x SW block; bilinear: the rows / columns
//            whose lo or hi source is it): no atomics, deterministic.
enum class UpsampleVariant { naive, gather };

void upsampling2d_forward(float* y,         // (N, H*SH, W*SW, C)
                          const float* x,   // (N, H, W, C)
                          const Upsample2dGeom& g);
void upsampling2d_backward(float* dx,        // (N, H, W, C)   overwritten
                           const float* dy,  // (N, H*SH, W*SW, C)
                           const Upsample2dGeom& g, UpsampleVariant variant = UpsampleVariant::gather);

}  // namespace nk::cuda
