// pool.cu - pooling on the GPU: forwards, backwards in two variants (naive scatter with atomics,
// gather), global average pooling. Definitions, size letters and variants: cuda/pool.h.
//
// Window of output (oh, ow): rows h = oh*SH - PT + [0, KH), columns w = ow*SW - PL + [0, KW).
// Inverted for the gather backwards: input row h lies in the windows of
//   oh in [ceil((h + PT - KH + 1) / SH), floor((h + PT) / SH)] clipped to [0, OH)
// (likewise columns). Every kernel is one thread per element of its output, grid-stride, with
// consecutive threads on consecutive channels (C is contiguous), so global accesses coalesce.
#include "cuda/pool.h"

#include <cmath>

#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) { return grid_stride_blocks(n, kThreads); }

#define NK_FOR_EACH_ELEMENT(i, n)                                                   \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);         \
       i += (int64_t)blockDim.x * gridDim.x)

// (n, oh, ow, c) of a flat output index, and the in-bounds part [hb, he) x [wb, we) of its window
struct Window {
  int64_t n, oh, ow, c, hb, he, wb, we;
};
__device__ __forceinline__ Window window_of(int64_t i, const Pool2dGeom& g) {
  Window k;
  k.c = i % g.C;
  k.ow = (i / g.C) % g.OW;
  k.oh = (i / (g.C * g.OW)) % g.OH;
  k.n = i / (g.C * g.OW * g.OH);
  const int64_t h0 = k.oh * g.SH - g.PT, w0 = k.ow * g.SW - g.PL;
  k.hb = h0 > 0 ? h0 : 0;
  k.he = h0 + g.KH < g.H ? h0 + g.KH : g.H;
  k.wb = w0 > 0 ? w0 : 0;
  k.we = w0 + g.KW < g.W ? w0 + g.KW : g.W;
  return k;
}

// Flat x index of the first maximum (row-major (kh, kw) order; strict > keeps the first of ties;
// NaN never wins) of window k, or -1 if the window has no in-bounds position.
__device__ __forceinline__ int64_t window_argmax(const float* __restrict__ x, const Window& k, const Pool2dGeom& g) {
  float m = -INFINITY;
  int64_t arg = -1;
  for (int64_t h = k.hb; h < k.he; ++h)
    for (int64_t w = k.wb; w < k.we; ++w) {
      const int64_t j = ((k.n * g.H + h) * g.W + w) * g.C + k.c;
      if (arg < 0 || x[j] > m) { m = x[j]; arg = j; }
    }
  return arg;
}

// Range of outputs [o0, o1) along one axis whose windows contain input index h.
__device__ __forceinline__ void windows_containing(int64_t h, int64_t P, int64_t K, int64_t S, int64_t O,
                                                   int64_t* o0, int64_t* o1) {
  const int64_t lo = h + P - K + 1;  // oh*S >= lo
  *o0 = lo > 0 ? (lo + S - 1) / S : 0;
  const int64_t hi = (h + P) / S + 1;  // oh*S <= h + P (h + P >= 0 as P >= 0)
  *o1 = hi < O ? hi : O;
}

__global__ void max_pool2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x, Pool2dGeom g) {
  NK_FOR_EACH_ELEMENT(i, g.N * g.OH * g.OW * g.C) {
    const Window k = window_of(i, g);
    float m = -INFINITY;  // padding never wins
    for (int64_t h = k.hb; h < k.he; ++h)
      for (int64_t w = k.wb; w < k.we; ++w) {
        const float v = x[((k.n * g.H + h) * g.W + w) * g.C + k.c];
        if (v > m) m = v;
      }
    y[i] = m;
  }
}

// naive: one thread per dy element adds it at its window's argmax (dx zeroed first)
__global__ void max_pool2d_backward_naive_kernel(float* __restrict__ dx, const float* __restrict__ dy,
                                                 const float* __restrict__ x, Pool2dGeom g) {
  NK_FOR_EACH_ELEMENT(i, g.N * g.OH * g.OW * g.C) {
    const int64_t arg = window_argmax(x, window_of(i, g), g);
    if (arg >= 0) atomicAdd(&dx[arg], dy[i]);
  }
}

// gather: dx element (n, h, w, c) sums dy over the windows containing it whose argmax it is
__global__ void max_pool2d_backward_gather_kernel(float* __restrict__ dx, const float* __restrict__ dy,
                                                  const float* __restrict__ x, Pool2dGeom g) {
  NK_FOR_EACH_ELEMENT(i, g.N * g.H * g.W * g.C) {
    const int64_t c = i % g.C, w = (i / g.C) % g.W, h = (i / (g.C * g.W)) % g.H, n = i / (g.C * g.W * g.H);
    int64_t oh0, oh1, ow0, ow1;
    windows_containing(h, g.PT, g.KH, g.SH, g.OH, &oh0, &oh1);
    windows_containing(w, g.PL, g.KW, g.SW, g.OW, &ow0, &ow1);
    float s = 0.0f;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const int64_t o = ((n * g.OH + oh) * g.OW + ow) * g.C + c;
        if (window_argmax(x, window_of(o, g), g) == i) s += dy[o];
      }
    dx[i] = s;
  }
}

__global__ void avg_pool2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x, Pool2dGeom g) {
  NK_FOR_EACH_ELEMENT(i, g.N * g.OH * g.OW * g.C) {
    const Window k = window_of(i, g);
    float s = 0.0f;  // in-bounds positions only: 'same' padding is not averaged in
    for (int64_t h = k.hb; h < k.he; ++h)
      for (int64_t w = k.wb; w < k.we; ++w) s += x[((k.n * g.H + h) * g.W + w) * g.C + k.c];
    const int64_t count = (k.he - k.hb) * (k.we - k.wb);
    y[i] = count > 0 ? s / static_cast<float>(count) : 0.0f;
  }
}

// naive: one thread per dy element spreads dy / count over its window (dx zeroed first)
__global__ void avg_pool2d_backward_naive_kernel(float* __restrict__ dx, const float* __restrict__ dy, Pool2dGeom g) {
  NK_FOR_EACH_ELEMENT(i, g.N * g.OH * g.OW * g.C) {
    const Window k = window_of(i, g);
    const int64_t count = (k.he - k.hb) * (k.we - k.wb);
    if (count <= 0) continue;
    const float gv = dy[i] / static_cast<float>(count);
    for (int64_t h = k.hb; h < k.he; ++h)
      for (int64_t w = k.wb; w < k.we; ++w) atomicAdd(&dx[((k.n * g.H + h) * g.W + w) * g.C + k.c], gv);
  }
}

// gather: dx element sums dy / count over the windows containing it
__global__ void avg_pool2d_backward_gather_kernel(float* __restrict__ dx, const float* __restrict__ dy, Pool2dGeom g) {
  NK_FOR_EACH_ELEMENT(i, g.N * g.H * g.W * g.C) {
    const int64_t c = i % g.C, w = (i / g.C) % g.W, h = (i / (g.C * g.W)) % g.H, n = i / (g.C * g.W * g.H);
    int64_t oh0, oh1, ow0, ow1;
    windows_containing(h, g.PT, g.KH, g.SH, g.OH, &oh0, &oh1);
    windows_containing(w, g.PL, g.KW, g.SW, g.OW, &ow0, &ow1);
    float s = 0.0f;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const int64_t o = ((n * g.OH + oh) * g.OW + ow) * g.C + c;
        const Window k = window_of(o, g);
        s += dy[o] / static_cast<float>((k.he - k.hb) * (k.we - k.wb));
      }
    dx[i] = s;
  }
}

// y[n,c] = mean over HW of x[n,:,c]: one thread per (n, c), summed in double (HW may be large)
__global__ void global_avg_pool2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int64_t N,
                                                 int64_t HW, int64_t C) {
  NK_FOR_EACH_ELEMENT(i, N * C) {
    const int64_t n = i / C, c = i % C;
    double s = 0.0;
    for (int64_t p = 0; p < HW; ++p) s += x[(n * HW + p) * C + c];
    y[i] = static_cast<float>(s / static_cast<double>(HW));
  }
}

__global__ void global_avg_pool2d_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, int64_t N,
                                                  int64_t HW, int64_t C) {
  NK_FOR_EACH_ELEMENT(i, N * HW * C) {
    const int64_t c = i % C, n = i / (HW * C);
    dx[i] = dy[n * C + c] / static_cast<float>(HW);
  }
}

#undef NK_FOR_EACH_ELEMENT

}  // namespace

void max_pool2d_forward(float* y, const float* x, const Pool2dGeom& g) {
  const int64_t ny = g.N * g.OH * g.OW * g.C;
  if (ny == 0) return;
  NK_LAUNCH(max_pool2d_forward_kernel, blocks_for(ny), kThreads, 0, y, x, g);
  NK_CHECK_LAUNCH("max_pool2d_forward_kernel");
}

void max_pool2d_backward(float* dx, const float* dy, const float* x, const Pool2dGeom& g, PoolVariant variant) {
  const int64_t nx = g.N * g.H * g.W * g.C, ny = g.N * g.OH * g.OW * g.C;
  if (nx == 0) return;
  if (variant == PoolVariant::naive) {
    memset_zero(dx, sizeof(float) * nx);
    NK_LAUNCH(max_pool2d_backward_naive_kernel, blocks_for(ny), kThreads, 0, dx, dy, x, g);
    NK_CHECK_LAUNCH("max_pool2d_backward_naive_kernel");
  } else {
    NK_LAUNCH(max_pool2d_backward_gather_kernel, blocks_for(nx), kThreads, 0, dx, dy, x, g);
    NK_CHECK_LAUNCH("max_pool2d_backward_gather_kernel");
  }
}

void avg_pool2d_forward(float* y, const float* x, const Pool2dGeom& g) {
  const int64_t ny = g.N * g.OH * g.OW * g.C;
  if (ny == 0) return;
  NK_LAUNCH(avg_pool2d_forward_kernel, blocks_for(ny), kThreads, 0, y, x, g);
  NK_CHECK_LAUNCH("avg_pool2d_forward_kernel");
}

void avg_pool2d_backward(float* dx, const float* dy, const Pool2dGeom& g, PoolVariant variant) {
  const int64_t nx = g.N * g.H * g.W * g.C, ny = g.N * g.OH * g.OW * g.C;
  if (nx == 0) return;
  if (variant == PoolVariant::naive) {
    memset_zero(dx, sizeof(float) * nx);
    NK_LAUNCH(avg_pool2d_backward_naive_kernel, blocks_for(ny), kThreads, 0, dx, dy, g);
    NK_CHECK_LAUNCH("avg_pool2d_backward_naive_kernel");
  } else {
    NK_LAUNCH(avg_pool2d_backward_gather_kernel, blocks_for(nx), kThreads, 0, dx, dy, g);
    NK_CHECK_LAUNCH("avg_pool2d_backward_gather_kernel");
  }
}

void global_avg_pool2d_forward(float* y, const float* x, int64_t N, int64_t HW, int64_t C) {
  if (N * C == 0) return;
  NK_LAUNCH(global_avg_pool2d_forward_kernel, blocks_for(N * C), kThreads, 0, y, x, N, HW, C);
  NK_CHECK_LAUNCH("global_avg_pool2d_forward_kernel");
}

void global_avg_pool2d_backward(float* dx, const float* dy, int64_t N, int64_t HW, int64_t C) {
  if (N * HW * C == 0) return;
  NK_LAUNCH(global_avg_pool2d_backward_kernel, blocks_for(N * HW * C), kThreads, 0, dx, dy, N, HW, C);
  NK_CHECK_LAUNCH("global_avg_pool2d_backward_kernel");
}

}  // namespace nk::cuda
