// image.cu - affine image resampling forward and backward on the GPU. Definitions, size letters and the
// variant: cuda/image.h; the sampling rules are cpu/image.h's, and map_coord / taps_at below are
// cpu/image_kernels.inc's functions on the device, line for line, so both backends pick the same taps
// and weights:
//   (u, v) = (a0*j + a1*i + a2, b0*j + b1*i + b2) in double, each mapped into the image by the fill mode
//   (reflect: period 2L, mirrored; wrap: mod L; nearest: clamp; constant: unchanged);
//   nearest:  one tap at (round(v), round(u)), halves away from zero (round(), as TF), weight 1;
//   bilinear: u0 = floor(u), fu = u - u0 (likewise v), taps (v0, u0), (v0, u0+1), (v0+1, u0), (v0+1, u0+1)
//             with weights (1-fv)(1-fu), (1-fv)fu, fv(1-fu), fv fu (float, as the CPU);
//   a tap outside the image reads fill_value in the forward and receives no gradient in the backward.
//
// Forward: one thread per y element (grid-stride; consecutive threads on consecutive channels, so the
//   C threads of one pixel recompute the same taps and read neighbouring x values). Taps are summed in
//   the CPU's order, starting from 0.
// Backward (naive): dx zeroed, then one thread per dy element atomicAdds w_k * dy into each inside tap.
#include "cuda/image.h"

#include <cmath>

#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) { return grid_stride_blocks(n, kThreads); }

struct ImageGeom {
  int64_t N, H, W, C, OH, OW;
  int interpolation;  // ImageInterpolation: 0 nearest, 1 bilinear
  int fill_mode;      // ImageFillMode: 0 reflect, 1 wrap, 2 constant, 3 nearest
};

// Maps a continuous coordinate c on an axis of length L into [0, L-1] (constant: unchanged).
__device__ __forceinline__ double map_coord(double c, int64_t L, int fill_mode) {
  const double hi = static_cast<double>(L - 1);
  if (c >= 0.0 && c <= hi) return c;  // inside: every mode leaves it
  switch (fill_mode) {
    case 0: {  // reflect: fold c into one period [0, 2L), then mirror the second half
      if (L <= 1) return 0.0;
      const double period = 2.0 * static_cast<double>(L);
      c = fmod(c, period);
      if (c < 0) c += period;
      if (c >= static_cast<double>(L)) c = period - 1.0 - c;
      break;
    }
    case 1: {  // wrap
      if (L <= 1) return 0.0;
      c = fmod(c, static_cast<double>(L));
      if (c < 0) c += static_cast<double>(L);
      break;
    }
    case 2: return c;  // constant
    default: break;    // nearest: the clamp below
  }
  return c < 0.0 ? 0.0 : (c > hi ? hi : c);  // also catches fmod's rounding at the period's edge
}

// Flat pixel index r * W + c of integral (r, c), or -1 outside the image.
__device__ __forceinline__ int64_t pixel(double r, double c, int64_t H, int64_t W) {
  if (!(r >= 0.0 && r <= static_cast<double>(H - 1) && c >= 0.0 && c <= static_cast<double>(W - 1))) return -1;
  return static_cast<int64_t>(r) * W + static_cast<int64_t>(c);
}

// Where output pixel (i, j) samples: up to 4 taps (flat pixel index or -1 when outside) and weights.
struct Taps {
  int64_t idx[4];
  float w[4];
  int n;
};

// t (6,): this image's matrix
__device__ __forceinline__ Taps taps_at(const float* t, int64_t i, int64_t j, const ImageGeom& g) {
  const double jj = static_cast<double>(j), ii = static_cast<double>(i);
  double u = static_cast<double>(t[0]) * jj + static_cast<double>(t[1]) * ii + static_cast<double>(t[2]);
  double v = static_cast<double>(t[3]) * jj + static_cast<double>(t[4]) * ii + static_cast<double>(t[5]);
  u = map_coord(u, g.W, g.fill_mode);
  v = map_coord(v, g.H, g.fill_mode);
  Taps tp;
  if (g.interpolation == 0) {  // nearest: round() rounds halves away from zero, as TF
    tp.n = 1;
    tp.idx[0] = pixel(round(v), round(u), g.H, g.W);
    tp.w[0] = 1.0f;
    return tp;
  }
  const double u0 = floor(u), v0 = floor(v);
  const float fu = static_cast<float>(u - u0), fv = static_cast<float>(v - v0);
  tp.n = 4;
  tp.idx[0] = pixel(v0, u0, g.H, g.W);             tp.w[0] = (1.0f - fv) * (1.0f - fu);
  tp.idx[1] = pixel(v0, u0 + 1.0, g.H, g.W);       tp.w[1] = (1.0f - fv) * fu;
  tp.idx[2] = pixel(v0 + 1.0, u0, g.H, g.W);       tp.w[2] = fv * (1.0f - fu);
  tp.idx[3] = pixel(v0 + 1.0, u0 + 1.0, g.H, g.W); tp.w[3] = fv * fu;
  return tp;
}

// y (N, OH, OW, C) from x (N, H, W, C); t (N, 6)
__global__ void affine_transform2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x,
                                                  const float* __restrict__ t, ImageGeom g, float fill_value) {
  const int64_t C = g.C, total = g.N * g.OH * g.OW * C;
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
       e += (int64_t)blockDim.x * gridDim.x) {
    const int64_t c = e % C, j = (e / C) % g.OW, i = (e / (C * g.OW)) % g.OH, n = e / (C * g.OW * g.OH);
    const Taps tp = taps_at(t + n * 6, i, j, g);
    const float* xn = x + n * g.H * g.W * C + c;  // channel c of image n, pixel stride C
    float s = 0.0f;
    for (int k = 0; k < tp.n; ++k) s += tp.idx[k] < 0 ? tp.w[k] * fill_value : tp.w[k] * xn[tp.idx[k] * C];
    y[e] = s;
  }
}

// naive backward: dy element e adds w_k * dy[e] to the dx elements its output pixel read. dx zeroed first.
__global__ void affine_transform2d_backward_naive_kernel(float* __restrict__ dx, const float* __restrict__ dy,
                                                         const float* __restrict__ t, ImageGeom g) {
  const int64_t C = g.C, total = g.N * g.OH * g.OW * C;
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
       e += (int64_t)blockDim.x * gridDim.x) {
    const int64_t c = e % C, j = (e / C) % g.OW, i = (e / (C * g.OW)) % g.OH, n = e / (C * g.OW * g.OH);
    const Taps tp = taps_at(t + n * 6, i, j, g);
    float* dxn = dx + n * g.H * g.W * C + c;
    const float d = dy[e];
    for (int k = 0; k < tp.n; ++k)
      if (tp.idx[k] >= 0) atomicAdd(&dxn[tp.idx[k] * C], tp.w[k] * d);  // fill_value taps: no gradient
  }
}

}  // namespace

void affine_transform2d_forward(float* y, const float* x, const float* t, int64_t N, int64_t H, int64_t W,
                                int64_t C, int64_t OH, int64_t OW, ImageInterpolation interpolation,
                                ImageFillMode fill_mode, float fill_value) {
  const int64_t total = N * OH * OW * C;
  if (total == 0) return;
  const ImageGeom g{N, H, W, C, OH, OW, static_cast<int>(interpolation), static_cast<int>(fill_mode)};
  NK_LAUNCH(affine_transform2d_forward_kernel, blocks_for(total), kThreads, 0, y, x, t, g, fill_value);
  NK_CHECK_LAUNCH("affine_transform2d_forward_kernel");
}

void affine_transform2d_backward(float* dx, const float* dy, const float* t, int64_t N, int64_t H, int64_t W,
                                 int64_t C, int64_t OH, int64_t OW, ImageInterpolation interpolation,
                                 ImageFillMode fill_mode) {
  const int64_t nx = N * H * W * C, ny = N * OH * OW * C;
  if (nx == 0) return;
  memset_zero(dx, sizeof(float) * nx);
  if (ny == 0) return;  // an empty output read nothing: dx stays 0
  const ImageGeom g{N, H, W, C, OH, OW, static_cast<int>(interpolation), static_cast<int>(fill_mode)};
  NK_LAUNCH(affine_transform2d_backward_naive_kernel, blocks_for(ny), kThreads, 0, dx, dy, t, g);
  NK_CHECK_LAUNCH("affine_transform2d_backward_naive_kernel");
}

}  // namespace nk::cuda
