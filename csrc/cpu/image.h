// image.h - geometric image transforms for the augmentation layers (RandomTranslation, RandomRotation,
// RandomZoom, RandomFlip): each image is resampled through its own 2x3 affine matrix.
//
// Size letters: N images; H, W input rows and columns; OH, OW output rows and columns; C channels.
// Layout NHWC (channels innermost), float32.
//
//   affine_transform2d_forward   y[N,OH,OW,C] = x[n] sampled at (u, v) for each output pixel (i, j):
//                                  u = t[n,0]*j + t[n,1]*i + t[n,2]    (input column, continuous)
//                                  v = t[n,3]*j + t[n,4]*i + t[n,5]    (input row)
//                                the matrix maps OUTPUT pixel indices to INPUT coordinates (the
//                                Keras / TF ImageProjectiveTransformV3 convention, affine part).
//   affine_transform2d_backward  dx[N,H,W,C] = the adjoint of that sampling applied to dy
//                                (each dy value scattered back with its interpolation weights).
//                                OVERWRITES dx; there are no parameter gradients (t is not trained).
//
// Sampling (as TF's ImageProjectiveTransformV3, which Keras' layers use):
//   1. fill mode maps each continuous coordinate c into the image, per axis of length L:
//        reflect   half-sample symmetric, period 2L (d c b a | a b c d | d c b a), then clamp to [0, L-1]
//        wrap      periodic, c mod L, then clamp to [0, L-1] (no interpolation across the seam)
//        nearest   clamp to [0, L-1]
//        constant  unchanged: taps outside the image read fill_value
//   2. interpolation:
//        nearest   the tap at (round(v), round(u)), halves rounded away from zero
//        bilinear  the four taps around (v, u) weighted by (1 - fv, fv) x (1 - fu, fu)
//      After reflect/wrap/nearest a tap can only fall outside at weight 0 (c == L - 1); it reads
//      fill_value like a constant-mode tap.
// Coordinates are computed in double, so large images keep sub-pixel accuracy.
//
// Paths: the plain loops of cpu/image_kernels.inc, compiled for baseline x86-64 ("scalar", the
// reference), -mavx2 -mfma and -mavx512f, and chosen by nk::active_isa(). The work is gather-bound;
// the compiler vectorises the per-pixel channel loops. Forward runs (image, row) pairs on OpenMP
// threads; backward scatters, so it runs whole images on threads (no two threads write one dx[n]).
#pragma once
#include <cstdint>

namespace nk {

enum class ImageInterpolation : int { nearest = 0, bilinear = 1 };
enum class ImageFillMode : int { reflect = 0, wrap = 1, constant = 2, nearest = 3 };

void affine_transform2d_forward(float* y,                // (N, OH, OW, C)
                                const float* x,          // (N, H, W, C)
                                const float* t,          // (N, 6)  [a0 a1 a2 b0 b1 b2] per image
                                int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                                ImageInterpolation interpolation, ImageFillMode fill_mode, float fill_value);

void affine_transform2d_backward(float* dx,              // (N, H, W, C)  overwritten
                                 const float* dy,        // (N, OH, OW, C)
                                 const float* t,         // (N, 6)
                                 int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW,
                                 ImageInterpolation interpolation, ImageFillMode fill_mode);

// Per-ISA serial pieces (cpu/image_kernels.inc): output row i of image n / all of image n.
#define NK_IMAGE_DECLARE(NS)                                                                          \
  namespace NS {                                                                                     \
  void forward_row(float* y, const float* x, const float* t, int64_t i, int64_t H, int64_t W,       \
                   int64_t C, int64_t OW, int interpolation, int fill_mode, float fill_value);      \
  void backward_image(float* dx, const float* dy, const float* t, int64_t H, int64_t W, int64_t C,  \
                      int64_t OH, int64_t OW, int interpolation, int fill_mode);                    \
  }
NK_IMAGE_DECLARE(image_scalar)
NK_IMAGE_DECLARE(image_avx2)
NK_IMAGE_DECLARE(image_avx512)
#undef NK_IMAGE_DECLARE

}  // namespace nk
