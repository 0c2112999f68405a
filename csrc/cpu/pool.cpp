// pool.cpp - pooling: geometry, the naive reference loops, the baseline (SSE2) build of the nhwc
// variant and the dispatcher. Definitions, size letters and variants: cpu/pool.h.
#include "cpu/pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"

namespace nk {

Pool2dGeom pool2d_geometry(int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW,
                           int64_t SH, int64_t SW, bool same) {
  NK_CHECK(KH >= 1 && KW >= 1, "pool_size must be positive, got (", KH, ", ", KW, ")");
  NK_CHECK(SH >= 1 && SW >= 1, "strides must be positive, got (", SH, ", ", SW, ")");
  NK_CHECK(N >= 0 && H >= 1 && W >= 1 && C >= 1, "pooling needs an input (N, H, W, C) with H, W, C >= 1, got (",
           N, ", ", H, ", ", W, ", ", C, ")");
  Pool2dGeom g{N, H, W, C, 0, 0, KH, KW, SH, SW, 0, 0};
  if (same) {
    g.OH = (H + SH - 1) / SH;
    g.OW = (W + SW - 1) / SW;
    int64_t th = std::max<int64_t>((g.OH - 1) * SH + KH - H, 0);
    int64_t tw = std::max<int64_t>((g.OW - 1) * SW + KW - W, 0);
    g.PT = th / 2;
    g.PL = tw / 2;
  } else {
    NK_CHECK(KH <= H && KW <= W, "padding='valid' needs pool_size (", KH, ", ", KW,
             ") no larger than the input's (H, W) = (", H, ", ", W, "): use padding='same' or a smaller pool");
    g.OH = (H - KH) / SH + 1;
    g.OW = (W - KW) / SW + 1;
  }
  return g;
}

// ---------------------------------------------------------------------------------------------
// naive: one output element at a time.

void max_pool2d_forward_naive(float* y, const float* x, const Pool2dGeom& g) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        for (int64_t c = 0; c < g.C; ++c) {
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              int64_t h = oh * g.SH - g.PT + kh, w = ow * g.SW - g.PL + kw;
              if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;  // padding never wins
              float v = x[((n * g.H + h) * g.W + w) * g.C + c];
              if (v > m) m = v;
            }
          y[((n * g.OH + oh) * g.OW + ow) * g.C + c] = m;
        }
}

void max_pool2d_backward_naive(float* dx, const float* dy, const float* x, const Pool2dGeom& g) {
  std::memset(dx, 0, sizeof(float) * g.N * g.H * g.W * g.C);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        for (int64_t c = 0; c < g.C; ++c) {
          float m = -std::numeric_limits<float>::infinity();
          int64_t arg = -1;  // flat index of the first maximum in (kh, kw) order
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              int64_t h = oh * g.SH - g.PT + kh, w = ow * g.SW - g.PL + kw;
              if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
              int64_t i = ((n * g.H + h) * g.W + w) * g.C + c;
              if (arg < 0 || x[i] > m) { m = x[i]; arg = i; }  // strict >: ties keep the first
            }
          if (arg >= 0) dx[arg] += dy[((n * g.OH + oh) * g.OW + ow) * g.C + c];
        }
}

void avg_pool2d_forward_naive(float* y, const float* x, const Pool2dGeom& g) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        for (int64_t c = 0; c < g.C; ++c) {
          float s = 0.0f;
          int64_t count = 0;  // in-bounds positions only ('same' padding is not averaged in)
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              int64_t h = oh * g.SH - g.PT + kh, w = ow * g.SW - g.PL + kw;
              if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
              s += x[((n * g.H + h) * g.W + w) * g.C + c];
              ++count;
            }
          y[((n * g.OH + oh) * g.OW + ow) * g.C + c] = count ? s / static_cast<float>(count) : 0.0f;
        }
}

void avg_pool2d_backward_naive(float* dx, const float* dy, const Pool2dGeom& g) {
  std::memset(dx, 0, sizeof(float) * g.N * g.H * g.W * g.C);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        int64_t h0 = oh * g.SH - g.PT, w0 = ow * g.SW - g.PL;
        int64_t hb = std::max<int64_t>(h0, 0), he = std::min(h0 + g.KH, g.H);
        int64_t wb = std::max<int64_t>(w0, 0), we = std::min(w0 + g.KW, g.W);
        int64_t count = (he - hb) * (we - wb);
        if (count <= 0) continue;
        for (int64_t c = 0; c < g.C; ++c) {
          float gv = dy[((n * g.OH + oh) * g.OW + ow) * g.C + c] / static_cast<float>(count);
          for (int64_t h = hb; h < he; ++h)
            for (int64_t w = wb; w < we; ++w) dx[((n * g.H + h) * g.W + w) * g.C + c] += gv;
        }
      }
}

void global_avg_pool2d_forward_naive(float* y, const float* x, int64_t N, int64_t HW, int64_t C) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double s = 0.0;
      for (int64_t i = 0; i < HW; ++i) s += x[(n * HW + i) * C + c];
      y[n * C + c] = static_cast<float>(s / static_cast<double>(HW));
    }
}

void global_avg_pool2d_backward_naive(float* dx, const float* dy, int64_t N, int64_t HW, int64_t C) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < HW; ++i)
      for (int64_t c = 0; c < C; ++c) dx[(n * HW + i) * C + c] = dy[n * C + c] / static_cast<float>(HW);
}

// ---------------------------------------------------------------------------------------------
// nhwc, baseline build (the compiler vectorises the channel loops with SSE2).
namespace pool_sse2 {
#include "cpu/pool_kernels.inc"
}

// Dispatch on the active ISA.
#define NK_POOL_DISPATCH(fn, ...)                                              \
  switch (active_isa()) {                                                      \
    case Isa::avx512: pool_avx512::fn(__VA_ARGS__); break;                     \
    case Isa::avx2: pool_avx2::fn(__VA_ARGS__); break;                         \
    default: pool_sse2::fn(__VA_ARGS__); break;                                \
  }

void max_pool2d_forward(float* y, const float* x, const Pool2dGeom& g) {
  NK_POOL_DISPATCH(max_pool2d_forward, y, x, g);
}
void max_pool2d_backward(float* dx, const float* dy, const float* x, const Pool2dGeom& g) {
  NK_POOL_DISPATCH(max_pool2d_backward, dx, dy, x, g);
}
void avg_pool2d_forward(float* y, const float* x, const Pool2dGeom& g) {
  NK_POOL_DISPATCH(avg_pool2d_forward, y, x, g);
}
void avg_pool2d_backward(float* dx, const float* dy, const Pool2dGeom& g) {
  NK_POOL_DISPATCH(avg_pool2d_backward, dx, dy, g);
}
void global_avg_pool2d_forward(float* y, const float* x, int64_t N, int64_t HW, int64_t C) {
  NK_POOL_DISPATCH(global_avg_pool2d_forward, y, x, N, HW, C);
}
void global_avg_pool2d_backward(float* dx, const float* dy, int64_t N, int64_t HW, int64_t C) {
  NK_POOL_DISPATCH(global_avg_pool2d_backward, dx, dy, N, HW, C);
}

}  // namespace nk
