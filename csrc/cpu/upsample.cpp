// upsample.cpp - UpSampling2D: bilinear coefficients, the naive reference loops, the baseline (SSE2)
// build of the nhwc variant and the dispatcher. Definitions and size letters: cpu/upsample.h.
#include "cpu/upsample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/cpu_features.h"
#include "core/parallel.h"

namespace nk {

// Half-pixel source coordinate src = (o + 0.5) / S - 0.5, floor / ceil clamped to the edge (TF's
// compute_interpolation_weights). Computed in double: TF and PyTorch use a float scale 1/S, which
// moves the weight f by ~1e-7 * src; the double value is the exact definition.
void upsample_bilinear_coeff(int64_t o, int64_t S, int64_t in, int64_t* lo, int64_t* hi, float* f) {
  const double src = (static_cast<double>(o) + 0.5) / static_cast<double>(S) - 0.5;
  const double fl = std::floor(src);
  *lo = std::max<int64_t>(static_cast<int64_t>(fl), 0);
  *hi = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1);
  *f = static_cast<float>(src - fl);
}

void upsampling2d_forward_naive(float* y, const float* x, const Upsample2dGeom& g) {
  const int64_t OH = g.H * g.SH, OW = g.W * g.SW, C = g.C;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          float* out = &y[((n * OH + oh) * OW + ow) * C + c];
          auto X = [&](int64_t h, int64_t w) { return x[((n * g.H + h) * g.W + w) * C + c]; };
          if (!g.bilinear) { *out = X(oh / g.SH, ow / g.SW); continue; }
          int64_t h0, h1, w0, w1;
          float fh, fw;
          upsample_bilinear_coeff(oh, g.SH, g.H, &h0, &h1, &fh);
          upsample_bilinear_coeff(ow, g.SW, g.W, &w0, &w1, &fw);
          float top = X(h0, w0) + (X(h0, w1) - X(h0, w0)) * fw;
          float bot = X(h1, w0) + (X(h1, w1) - X(h1, w0)) * fw;
          *out = top + (bot - top) * fh;
        }
}

void upsampling2d_backward_naive(float* dx, const float* dy, const Upsample2dGeom& g) {
  const int64_t OH = g.H * g.SH, OW = g.W * g.SW, C = g.C;
  std::memset(dx, 0, sizeof(float) * g.N * g.H * g.W * C);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          const float d = dy[((n * OH + oh) * OW + ow) * C + c];
          auto DX = [&](int64_t h, int64_t w) -> float& { return dx[((n * g.H + h) * g.W + w) * C + c]; };
          if (!g.bilinear) { DX(oh / g.SH, ow / g.SW) += d; continue; }
          int64_t h0, h1, w0, w1;
          float fh, fw;
          upsample_bilinear_coeff(oh, g.SH, g.H, &h0, &h1, &fh);
          upsample_bilinear_coeff(ow, g.SW, g.W, &w0, &w1, &fw);
          DX(h0, w0) += d * (1.0f - fh) * (1.0f - fw);
          DX(h0, w1) += d * (1.0f - fh) * fw;
          DX(h1, w0) += d * fh * (1.0f - fw);
          DX(h1, w1) += d * fh * fw;
        }
}

namespace upsample_sse2 {
#include "cpu/upsample_kernels.inc"
}

void upsampling2d_forward(float* y, const float* x, const Upsample2dGeom& g) {
  switch (active_isa()) {
    case Isa::avx512: upsample_avx512::upsampling2d_forward(y, x, g); break;
    case Isa::avx2: upsample_avx2::upsampling2d_forward(y, x, g); break;
    default: upsample_sse2::upsampling2d_forward(y, x, g); break;
  }
}

void upsampling2d_backward(float* dx, const float* dy, const Upsample2dGeom& g) {
  switch (active_isa()) {
    case Isa::avx512: upsample_avx512::upsampling2d_backward(dx, dy, g); break;
    case Isa::avx2: upsample_avx2::upsampling2d_backward(dx, dy, g); break;
    default: upsample_sse2::upsampling2d_backward(dx, dy, g); break;
  }
}

}  // namespace nk
