// upsample.cu - UpSampling2D forward and backward on the GPU. Definitions, size letters and the
// variants: cuda/upsample.h; the bilinear rule is cpu/upsample.h's (half-pixel source coordinate
// src = (o + 0.5) / S - 0.5, lo = max(floor(src), 0), hi = min(ceil(src), n-1), f = src - floor(src),
// computed in double as upsample_bilinear_coeff so both backends pick the same weights).
//
// Forward: one thread per y element (grid-stride; consecutive threads on consecutive channels).
// Backward:
//   naive  - one thread per dy element, atomicAdd into dx zeroed first.
//   gather - one thread per dx element. Nearest: the SH x SW block of dy above it. Bilinear: output
//            rows oh that read row h satisfy |src(oh) - h| < 1, i.e. oh in ((h-1)SH, (h+2)SH); the
//            thread scans that range (and likewise columns) and adds dy * wh * ww, where wh is
//            (1 - fh) if lo == h plus fh if hi == h. Each dx element is written once: no races.
#include "cuda/upsample.h"

#include <cmath>

#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) { return grid_stride_blocks(n, kThreads); }

// Bilinear source of output index o along an axis of input length n, factor S (cpu/upsample.cpp's
// upsample_bilinear_coeff on the device).
struct Src {
  int64_t lo, hi;
  float f;  // weight of hi
};
__device__ __forceinline__ Src bilinear_src(int64_t o, int64_t S, int64_t n) {
  const double src = (static_cast<double>(o) + 0.5) / static_cast<double>(S) - 0.5;
  const double fl = floor(src);
  Src s;
  s.lo = fl > 0.0 ? static_cast<int64_t>(fl) : 0;
  const int64_t ce = static_cast<int64_t>(ceil(src));
  s.hi = ce < n - 1 ? ce : n - 1;
  s.f = static_cast<float>(src - fl);
  return s;
}

// y (N, OH, OW, C) from x (N, H, W, C)
__global__ void upsampling2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x, Upsample2dGeom g) {
  const int64_t OH = g.H * g.SH, OW = g.W * g.SW, C = g.C, total = g.N * OH * OW * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)blockDim.x * gridDim.x) {
    const int64_t c = i % C, ow = (i / C) % OW, oh = (i / (C * OW)) % OH, n = i / (C * OW * OH);
    const float* xn = x + n * g.H * g.W * C + c;
    if (!g.bilinear) {
      y[i] = xn[((oh / g.SH) * g.W + ow / g.SW) * C];
      continue;
    }
    const Src sh = bilinear_src(oh, g.SH, g.H), sw = bilinear_src(ow, g.SW, g.W);
    const float x00 = xn[(sh.lo * g.W + sw.lo) * C], x01 = xn[(sh.lo * g.W + sw.hi) * C];
    const float x10 = xn[(sh.hi * g.W + sw.lo) * C], x11 = xn[(sh.hi * g.W + sw.hi) * C];
    const float top = x00 + (x01 - x00) * sw.f, bot = x10 + (x11 - x10) * sw.f;
    y[i] = top + (bot - top) * sh.f;
  }
}

// naive backward: dy element i adds to the (up to 4) dx elements the forward read. dx zeroed first.
__global__ void upsampling2d_backward_naive_kernel(float* __restrict__ dx, const float* __restrict__ dy,
                                                   Upsample2dGeom g) {
  const int64_t OH = g.H * g.SH, OW = g.W * g.SW, C = g.C, total = g.N * OH * OW * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)blockDim.x * gridDim.x) {
    const int64_t c = i % C, ow = (i / C) % OW, oh = (i / (C * OW)) % OH, n = i / (C * OW * OH);
    float* dxn = dx + n * g.H * g.W * C + c;
    const float d = dy[i];
    if (!g.bilinear) {
      atomicAdd(&dxn[((oh / g.SH) * g.W + ow / g.SW) * C], d);
      continue;
    }
    const Src sh = bilinear_src(oh, g.SH, g.H), sw = bilinear_src(ow, g.SW, g.W);
    atomicAdd(&dxn[(sh.lo * g.W + sw.lo) * C], d * (1.0f - sh.f) * (1.0f - sw.f));
    atomicAdd(&dxn[(sh.lo * g.W + sw.hi) * C], d * (1.0f - sh.f) * sw.f);
    atomicAdd(&dxn[(sh.hi * g.W + sw.lo) * C], d * sh.f * (1.0f - sw.f));
    atomicAdd(&dxn[(sh.hi * g.W + sw.hi) * C], d * sh.f * sw.f);
  }
}

// Weight with which output index o reads input index h along one axis (0 if it does not).
__device__ __forceinline__ float bilinear_weight(int64_t o, int64_t h, int64_t S, int64_t n) {
  const Src s = bilinear_src(o, S, n);
  return (s.lo == h ? 1.0f - s.f : 0.0f) + (s.hi == h ? s.f : 0.0f);
}

// gather backward: dx element (n, h, w, c) sums the dy elements that read it
__global__ void upsampling2d_backward_gather_kernel(float* __restrict__ dx, const float* __restrict__ dy,
                                                    Upsample2dGeom g) {
  const int64_t OH = g.H * g.SH, OW = g.W * g.SW, C = g.C, total = g.N * g.H * g.W * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)blockDim.x * gridDim.x) {
    const int64_t c = i % C, w = (i / C) % g.W, h = (i / (C * g.W)) % g.H, n = i / (C * g.W * g.H);
    const float* dyn = dy + n * OH * OW * C + c;
    float s = 0.0f;
    if (!g.bilinear) {
      for (int64_t oh = h * g.SH; oh < (h + 1) * g.SH; ++oh)
        for (int64_t ow = w * g.SW; ow < (w + 1) * g.SW; ++ow) s += dyn[(oh * OW + ow) * C];
      dx[i] = s;
      continue;
    }
    // rows oh with |src(oh) - h| < 1 lie strictly inside ((h-1) SH, (h+2) SH); same for columns
    const int64_t oh0 = (h - 1) * g.SH > 0 ? (h - 1) * g.SH : 0, oh1 = (h + 2) * g.SH < OH ? (h + 2) * g.SH : OH;
    const int64_t ow0 = (w - 1) * g.SW > 0 ? (w - 1) * g.SW : 0, ow1 = (w + 2) * g.SW < OW ? (w + 2) * g.SW : OW;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const float wh = bilinear_weight(oh, h, g.SH, g.H);
      if (wh == 0.0f) continue;
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const float ww = bilinear_weight(ow, w, g.SW, g.W);
        if (ww != 0.0f) s += dyn[(oh * OW + ow) * C] * wh * ww;
      }
    }
    dx[i] = s;
  }
}

}  // namespace

void upsampling2d_forward(float* y, const float* x, const Upsample2dGeom& g) {
  const int64_t total = g.N * g.H * g.SH * g.W * g.SW * g.C;
  if (total == 0) return;
  NK_LAUNCH(upsampling2d_forward_kernel, blocks_for(total), kThreads, 0, y, x, g);
  NK_CHECK_LAUNCH("upsampling2d_forward_kernel");
}

void upsampling2d_backward(float* dx, const float* dy, const Upsample2dGeom& g, UpsampleVariant variant) {
  const int64_t nx = g.N * g.H * g.W * g.C, ny = nx * g.SH * g.SW;
  if (nx == 0) return;
  if (variant == UpsampleVariant::naive) {
    memset_zero(dx, sizeof(float) * nx);
    NK_LAUNCH(upsampling2d_backward_naive_kernel, blocks_for(ny), kThreads, 0, dx, dy, g);
    NK_CHECK_LAUNCH("upsampling2d_backward_naive_kernel");
  } else {
    NK_LAUNCH(upsampling2d_backward_gather_kernel, blocks_for(nx), kThreads, 0, dx, dy, g);
    NK_CHECK_LAUNCH("upsampling2d_backward_gather_kernel");
  }
}

}  // namespace nk::cuda
