// elementwise.cu - elementwise arithmetic and reductions on the device (definitions in
// cuda/elementwise.h, the same as cpu/elementwise.h).
//
// Size letters: n elements; N rows and C columns of a row-major (N, C) matrix.
// Kernels:
//   grid-stride loops (one element per thread per step): bias_add_forward, binary<op>, scale, axpy,
//     fill, square, sqrt
//   column_sum_kernel     (32 columns x 8 row phases) per block; each thread sums every 8th row of
//                         its column in double, then the 8 partials meet in shared memory:
//                         sum_rows (overwrite) and bias_add_backward (accumulate)
//   sum_partials_kernel   per-block double partials of a grid-stride sum (block_sum, reduce.h), then
//                         the same kernel on one block adds the partials: sum_all, mean_all
//   argmax_rows_kernel    one warp per row; lanes keep (value, index), then a shuffle tree picks
//                         the largest, ties to the smaller index, NaN beating every number
// The reference for all of these is the plain loops in cpu/elementwise_kernels.inc.
#include "cuda/elementwise.h"

#include <climits>
#include <cmath>

#include "core/errors.h"
#include "cuda/compat.h"
#include "cuda/reduce.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;

int grid_for(int64_t n) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 4096 ? blocks : 4096);
}

// The grid-stride loop: thread t handles t, t + T, t + 2T, ... for T threads in the grid.
#define NK_GRID_STRIDE(i, n)                                                              \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// y (N, C) = x (N, C) + b (C,); y may be x.
__global__ void bias_add_forward_kernel(float* y, const float* x, const float* b, int64_t N, int64_t C) {
  NK_GRID_STRIDE(i, N * C) y[i] = x[i] + b[i % C];
}

enum BinaryOp : int { kAdd, kSub, kMul, kDiv };

template <int Op>
__global__ void binary_kernel(float* y, const float* a, const float* b, int64_t n) {
  NK_GRID_STRIDE(i, n) {
    const float u = a[i], v = b[i];
    y[i] = Op == kAdd ? u + v : Op == kSub ? u - v : Op == kMul ? u * v : u / v;
  }
}

__global__ void scale_kernel(float* y, const float* x, float alpha, int64_t n) {
  NK_GRID_STRIDE(i, n) y[i] = alpha * x[i];
}
__global__ void axpy_kernel(float* y, const float* x, float alpha, int64_t n) {
  NK_GRID_STRIDE(i, n) y[i] += alpha * x[i];
}
__global__ void fill_kernel(float* y, float value, int64_t n) {
  NK_GRID_STRIDE(i, n) y[i] = value;
}
__global__ void square_kernel(float* y, const float* x, int64_t n) {
  NK_GRID_STRIDE(i, n) y[i] = x[i] * x[i];
}
__global__ void sqrt_kernel(float* y, const float* x, int64_t n) {
  NK_GRID_STRIDE(i, n) y[i] = sqrtf(x[i]);
}

// out[c] (= or +=) sum_r x[r, c] for x (N, C), out (C,). Block (32, 8): threadIdx.x picks the column
// (a warp reads 32 consecutive floats of a row), threadIdx.y the row phase.
constexpr int kColsPerBlock = 32, kRowPhases = 8;
__global__ void column_sum_kernel(float* out, const float* x, int64_t N, int64_t C, bool accumulate) {
  __shared__ double partial[kRowPhases][kColsPerBlock];
  const int64_t c = blockIdx.x * static_cast<int64_t>(kColsPerBlock) + threadIdx.x;
  double acc = 0.0;
  if (c < C)
    for (int64_t r = threadIdx.y; r < N; r += kRowPhases) acc += x[r * C + c];
  partial[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    double total = 0.0;
    for (int p = 0; p < kRowPhases; ++p) total += partial[p][threadIdx.x];  // fixed order
    out[c] = accumulate ? static_cast<float>(out[c] + total) : static_cast<float>(total);
  }
}

void column_sum(float* out, const float* x, int64_t N, int64_t C, bool accumulate, const char* what) {
  if (C == 0) return;
  const int64_t blocks = (C + kColsPerBlock - 1) / kColsPerBlock;
  NK_CHECK(blocks <= INT_MAX, what, ": too many columns (", C, ")");
  NK_LAUNCH(column_sum_kernel, static_cast<int>(blocks), dim3(kColsPerBlock, kRowPhases, 1), 0, out, x, N, C,
            accumulate);
  NK_CHECK_LAUNCH("column_sum_kernel");
}

// partial[blockIdx.x] = sum of the x[i] this block visits in a grid-stride loop (in double).
// Run again with one block over the partials to finish; the order is fixed by the launch shape.
template <typename T>
__global__ void sum_partials_kernel(double* partial, const T* x, int64_t n) {
  double acc = 0.0;
  NK_GRID_STRIDE(i, n) acc += static_cast<double>(x[i]);
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// True when (va, ia) should be reported instead of (vb, ib): NaN beats numbers, then the larger
// value, then (equal values, or two NaNs) the smaller index - NumPy's argmax.
__device__ __forceinline__ bool argmax_wins(float va, int ia, float vb, int ib) {
  const bool na = va != va, nb = vb != vb;  // NaN is the only value unequal to itself
  if (na != nb) return na;
  if (!na && va != vb) return va > vb;
  return ia < ib;
}

// out (N,) int64; x (N, C). Warp w of the block owns row blockIdx.x * 4 + w.
__global__ void argmax_rows_kernel(int64_t* out, const float* x, int64_t N, int C) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= N) return;  // the whole warp leaves together
  const float* xr = x + row * C;
  float best = -INFINITY;
  int best_i = INT_MAX;  // loses every tie against a real index
  for (int c = lane; c < C; c += 32)
    if (argmax_wins(xr[c], c, best, best_i)) { best = xr[c]; best_i = c; }
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float v = __shfl_xor_sync(kFullWarp, best, offset);
    const int vi = __shfl_xor_sync(kFullWarp, best_i, offset);
    if (argmax_wins(v, vi, best, best_i)) { best = v; best_i = vi; }
  }
  if (lane == 0) out[row] = best_i;
}

template <int Op>
void binary_run(float* y, const float* a, const float* b, int64_t n) {
  if (n == 0) return;
  NK_LAUNCH(binary_kernel<Op>, grid_for(n), kThreads, 0, y, a, b, n);
  NK_CHECK_LAUNCH("binary_kernel");
}

// Sum of x (n,) in double, on the host. Two launches: <= 1024 partials, then one block over them.
double sum_double(const float* x, int64_t n) {
  if (n == 0) return 0.0;
  const int blocks = grid_for(n) < 1024 ? grid_for(n) : 1024;
  double* partial = static_cast<double*>(device_alloc(sizeof(double) * (blocks + 1)));
  double total = 0.0;
  try {
    NK_LAUNCH(sum_partials_kernel<float>, blocks, kThreads, 0, partial, x, n);
    NK_CHECK_LAUNCH("sum_partials_kernel<float>");
    NK_LAUNCH(sum_partials_kernel<double>, 1, kThreads, 0, partial + blocks, partial, static_cast<int64_t>(blocks));
    NK_CHECK_LAUNCH("sum_partials_kernel<double>");
    memcpy_d2h(&total, partial + blocks, sizeof(double));  // waits for the kernels
  } catch (...) {
    device_free(partial);
    throw;
  }
  device_free(partial);
  return total;
}

}  // namespace

// ---- host entry points -----------------------------------------------------------------------------
void bias_add_forward(float* y, const float* x, const float* b, int64_t N, int64_t C) {
  if (N * C == 0) return;
  NK_LAUNCH(bias_add_forward_kernel, grid_for(N * C), kThreads, 0, y, x, b, N, C);
  NK_CHECK_LAUNCH("bias_add_forward_kernel");
}

void bias_add_backward(float* db, const float* dy, int64_t N, int64_t C) {
  column_sum(db, dy, N, C, /*accumulate=*/true, "bias_add_backward");
}

void add(float* y, const float* a, const float* b, int64_t n) { binary_run<kAdd>(y, a, b, n); }
void sub(float* y, const float* a, const float* b, int64_t n) { binary_run<kSub>(y, a, b, n); }
void mul(float* y, const float* a, const float* b, int64_t n) { binary_run<kMul>(y, a, b, n); }
void div(float* y, const float* a, const float* b, int64_t n) { binary_run<kDiv>(y, a, b, n); }

void scale(float* y, const float* x, float alpha, int64_t n) {
  if (n == 0) return;
  NK_LAUNCH(scale_kernel, grid_for(n), kThreads, 0, y, x, alpha, n);
  NK_CHECK_LAUNCH("scale_kernel");
}

void axpy(float* y, const float* x, float alpha, int64_t n) {
  if (n == 0) return;
  NK_LAUNCH(axpy_kernel, grid_for(n), kThreads, 0, y, x, alpha, n);
  NK_CHECK_LAUNCH("axpy_kernel");
}

void fill(float* y, float value, int64_t n) {
  if (n == 0) return;
  NK_LAUNCH(fill_kernel, grid_for(n), kThreads, 0, y, value, n);
  NK_CHECK_LAUNCH("fill_kernel");
}

void copy(float* y, const float* x, int64_t n) {
  if (n == 0 || y == x) return;
  memcpy_d2d(y, x, sizeof(float) * n);
}

void square(float* y, const float* x, int64_t n) {
  if (n == 0) return;
  NK_LAUNCH(square_kernel, grid_for(n), kThreads, 0, y, x, n);
  NK_CHECK_LAUNCH("square_kernel");
}

void sqrt(float* y, const float* x, int64_t n) {
  if (n == 0) return;
  NK_LAUNCH(sqrt_kernel, grid_for(n), kThreads, 0, y, x, n);
  NK_CHECK_LAUNCH("sqrt_kernel");
}

void sum_rows(float* out, const float* x, int64_t N, int64_t C) {
  column_sum(out, x, N, C, /*accumulate=*/false, "sum_rows");
}

float sum_all(const float* x, int64_t n) { return static_cast<float>(sum_double(x, n)); }

float mean_all(const float* x, int64_t n) {
  if (n == 0) return NAN;
  return static_cast<float>(sum_double(x, n) / static_cast<double>(n));
}

void argmax_rows(int64_t* out, const float* x, int64_t N, int64_t C) {
  if (N == 0) return;
  NK_CHECK(C > 0 && C <= INT_MAX, "argmax_rows: row length must be in [1, 2^31), got ", C);
  const int rows_per_block = 4;  // 4 warps
  NK_LAUNCH(argmax_rows_kernel, static_cast<int>((N + rows_per_block - 1) / rows_per_block), 32 * rows_per_block,
            0, out, x, N, static_cast<int>(C));
  NK_CHECK_LAUNCH("argmax_rows_kernel");
}

}  // namespace nk::cuda
