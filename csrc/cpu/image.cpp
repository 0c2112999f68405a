// image.cpp - affine image resampling: the scalar (baseline) build of cpu/image_kernels.inc and the
// dispatcher that picks an ISA and splits work over threads. Definitions are in cpu/image.h.
#define NK_IMAGE_NS image_scalar
#include "cpu/image.h"
#include "cpu/image_kernels.inc"

#include "core/cpu_features.h"
#include "core/parallel.h"

namespace nk {

namespace {

struct ImagePath {
  decltype(&image_scalar::forward_row) forward_row;
  decltype(&image_scalar::backward_image) backward_image;
};

ImagePath path() {
  switch (active_isa()) {
    case Isa::avx512: return {image_avx512::forward_row, image_avx512::backward_image};
    case Isa::avx2: return {image_avx2::forward_row, image_avx2::backward_image};
    default: return {image_scalar::forward_row, image_scalar::backward_image};
  }
}

}  // namespace

void affine_transform2d_forward(float* y, const float* x, const float* t, int64_t N, int64_t H, int64_t W,
                                int64_t C, int64_t OH, int64_t OW, ImageInterpolation interpolation,
                                ImageFillMode fill_mode, float fill_value) {
  const ImagePath p = path();
  const int64_t rows = N * OH;
  const int interp = static_cast<int>(interpolation), mode = static_cast<int>(fill_mode);
#ifdef NK_OPENMP
#pragma omp parallel for schedule(static) if (rows > 1 && rows * OW * C > kParallelGrain / 4)
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / OH, i = r % OH;
    p.forward_row(y + r * OW * C, x + n * H * W * C, t + n * 6, i, H, W, C, OW, interp, mode, fill_value);
  }
}

void affine_transform2d_backward(float* dx, const float* dy, const float* t, int64_t N, int64_t H, int64_t W,
                                 int64_t C, int64_t OH, int64_t OW, ImageInterpolation interpolation,
                                 ImageFillMode fill_mode) {
  const ImagePath p = path();
  const int interp = static_cast<int>(interpolation), mode = static_cast<int>(fill_mode);
#ifdef NK_OPENMP
#pragma omp parallel for schedule(static) if (N > 1 && N * OH * OW * C > kParallelGrain / 4)
#endif
  for (int64_t n = 0; n < N; ++n)
    p.backward_image(dx + n * H * W * C, dy + n * OH * OW * C, t + n * 6, H, W, C, OH, OW, interp, mode);
}

}  // namespace nk
