// pad.cu - ZeroPadding2D forward (zero border + copy) and backward (crop) on the GPU.
// Definitions and size letters: cuda/pad.h (= cpu/pad.h). OH = H + PT + PB, OW = W + PL + PR.
//
// Pure data movement, so the plain kernel is the fast one: one thread per OUTPUT element
// (grid-stride), consecutive threads on consecutive channels, so loads and stores coalesce. Each
// output element is written exactly once (no zeroing pass, no races).
#include "cuda/pad.h"

#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) { return grid_stride_blocks(n, kThreads); }

// y (N, OH, OW, C) from x (N, H, W, C): index decomposition, then inside ? copy : 0
__global__ void pad2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x, Pad2dGeom g) {
  const int64_t OH = g.H + g.PT + g.PB, OW = g.W + g.PL + g.PR, C = g.C;
  const int64_t total = g.N * OH * OW * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)blockDim.x * gridDim.x) {
    const int64_t c = i % C, ow = (i / C) % OW, oh = (i / (C * OW)) % OH, n = i / (C * OW * OH);
    const int64_t h = oh - g.PT, w = ow - g.PL;
    const bool inside = h >= 0 && h < g.H && w >= 0 && w < g.W;
    y[i] = inside ? x[((n * g.H + h) * g.W + w) * C + c] : 0.0f;
  }
}

// dx (N, H, W, C) = the interior of dy (N, OH, OW, C)
__global__ void pad2d_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, Pad2dGeom g) {
  const int64_t OH = g.H + g.PT + g.PB, OW = g.W + g.PL + g.PR, C = g.C;
  const int64_t total = g.N * g.H * g.W * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)blockDim.x * gridDim.x) {
    const int64_t c = i % C, w = (i / C) % g.W, h = (i / (C * g.W)) % g.H, n = i / (C * g.W * g.H);
    dx[i] = dy[((n * OH + h + g.PT) * OW + w + g.PL) * C + c];
  }
}

}  // namespace

void pad2d_forward(float* y, const float* x, const Pad2dGeom& g) {
  const int64_t total = g.N * (g.H + g.PT + g.PB) * (g.W + g.PL + g.PR) * g.C;
  if (total == 0) return;
  NK_LAUNCH(pad2d_forward_kernel, blocks_for(total), kThreads, 0, y, x, g);
  NK_CHECK_LAUNCH("pad2d_forward_kernel");
}

void pad2d_backward(float* dx, const float* dy, const Pad2dGeom& g) {
  const int64_t total = g.N * g.H * g.W * g.C;
  if (total == 0) return;
  NK_LAUNCH(pad2d_backward_kernel, blocks_for(total), kThreads, 0, dx, dy, g);
  NK_CHECK_LAUNCH("pad2d_backward_kernel");
}

}  // namespace nk::cuda
