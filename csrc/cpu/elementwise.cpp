// elementwise.cpp - elementwise arithmetic and reductions: the scalar (baseline) build of
// cpu/elementwise_kernels.inc and the dispatcher that picks an ISA and splits work over threads.
// Definitions, size letters and the accumulate rule are in cpu/elementwise.h.
#define NK_EW_NS ew_scalar
#include "cpu/elementwise.h"
#include "cpu/elementwise_kernels.inc"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/cpu_features.h"
#include "core/parallel.h"

namespace nk {

namespace {

struct EwPath {
  decltype(&ew_scalar::bias_add) bias_add;
  decltype(&ew_scalar::colsum_acc) colsum_acc;
  decltype(&ew_scalar::binary) binary;
  decltype(&ew_scalar::scale) scale;
  decltype(&ew_scalar::axpy) axpy;
  decltype(&ew_scalar::fill) fill;
  decltype(&ew_scalar::square) square;
  decltype(&ew_scalar::sqrt) sqrt;
  decltype(&ew_scalar::block_sum) block_sum;
  decltype(&ew_scalar::argmax_rows) argmax_rows;
};

#define NK_EW_PATH(NS)                                                                     \
  EwPath{NS::bias_add, NS::colsum_acc, NS::binary, NS::scale, NS::axpy, NS::fill,         \
         NS::square, NS::sqrt, NS::block_sum, NS::argmax_rows}

EwPath path() {
  switch (active_isa()) {
    case Isa::avx512: return NK_EW_PATH(ew_avx512);
    case Isa::avx2: return NK_EW_PATH(ew_avx2);
    default: return NK_EW_PATH(ew_scalar);
  }
}
#undef NK_EW_PATH

// body(begin, end) over [0, n) on threads when n is above the grain; chunks are multiples of 64.
template <typename F>
void for_elements(int64_t n, F body) {
#ifdef NK_OPENMP
#pragma omp parallel if (n > kParallelGrain)
#endif
  {
    int64_t b, e;
    thread_range(n, 64, &b, &e);
    if (b < e) body(b, e);
  }
}

// body(row_begin, row_end) over N rows of length C
template <typename F>
void for_rows(int64_t N, int64_t C, F body) {
#ifdef NK_OPENMP
#pragma omp parallel if (N > 1 && N * C > kParallelGrain)
#endif
  {
    int64_t b, e;
    thread_range(N, 1, &b, &e);
    if (b < e) body(b, e);
  }
}

// acc[C] = column sums of x[N,C] in double. The summation order depends only on (N, C), never on
// the thread count:
//  - many columns (C >= 128): each thread owns whole columns and sums all N rows of them;
//  - few columns, many rows (conv bias: N = batch * H * W): rows are cut into fixed blocks of
//    ~16K elements, each block's column sums go to its own slot, and slots are added in order.
void colsum(double* acc, const float* x, int64_t N, int64_t C) {
  EwPath p = path();
  std::fill(acc, acc + C, 0.0);
  const bool big = N * C > kParallelGrain;
  if (C >= 128 || !big) {
#ifdef NK_OPENMP
#pragma omp parallel if (big)
#endif
    {
      int64_t b, e;
      thread_range(C, 16, &b, &e);
      if (b < e) p.colsum_acc(acc + b, x + b, N, e - b, C);
    }
    return;
  }
  const int64_t R = std::max<int64_t>(1, 16384 / C);  // rows per block
  const int64_t nb = (N + R - 1) / R;
  std::vector<double> part(static_cast<size_t>(nb * C), 0.0);  // (nb, C) block sums
#ifdef NK_OPENMP
#pragma omp parallel
#endif
  {
    int64_t b, e;
    thread_range(nb, 1, &b, &e);
    for (int64_t k = b; k < e; ++k)
      p.colsum_acc(&part[k * C], x + k * R * C, std::min(R, N - k * R), C, C);
  }
  for (int64_t k = 0; k < nb; ++k)
    for (int64_t c = 0; c < C; ++c) acc[c] += part[k * C + c];
}

void binary_op(int op, float* y, const float* a, const float* b, int64_t n) {
  EwPath p = path();
  for_elements(n, [&](int64_t lo, int64_t hi) { p.binary(op, y + lo, a + lo, b + lo, hi - lo); });
}

}  // namespace

void bias_add_forward(float* y, const float* x, const float* b, int64_t N, int64_t C) {
  EwPath p = path();
  for_rows(N, C, [&](int64_t lo, int64_t hi) { p.bias_add(y + lo * C, x + lo * C, b, hi - lo, C); });
}

void bias_add_backward(float* db, const float* dy, int64_t N, int64_t C) {
  std::vector<double> acc(static_cast<size_t>(C));
  colsum(acc.data(), dy, N, C);
  for (int64_t c = 0; c < C; ++c) db[c] += static_cast<float>(acc[c]);  // accumulate: db +=
}

void sum_rows(float* out, const float* x, int64_t N, int64_t C) {
  std::vector<double> acc(static_cast<size_t>(C));
  colsum(acc.data(), x, N, C);
  for (int64_t c = 0; c < C; ++c) out[c] = static_cast<float>(acc[c]);  // overwrite
}

void add(float* y, const float* a, const float* b, int64_t n) { binary_op(kEwAdd, y, a, b, n); }
void sub(float* y, const float* a, const float* b, int64_t n) { binary_op(kEwSub, y, a, b, n); }
void mul(float* y, const float* a, const float* b, int64_t n) { binary_op(kEwMul, y, a, b, n); }
void div(float* y, const float* a, const float* b, int64_t n) { binary_op(kEwDiv, y, a, b, n); }

void scale(float* y, const float* x, float alpha, int64_t n) {
  EwPath p = path();
  for_elements(n, [&](int64_t lo, int64_t hi) { p.scale(y + lo, x + lo, alpha, hi - lo); });
}

void axpy(float* y, const float* x, float alpha, int64_t n) {
  EwPath p = path();
  for_elements(n, [&](int64_t lo, int64_t hi) { p.axpy(y + lo, x + lo, alpha, hi - lo); });
}

void fill(float* y, float value, int64_t n) {
  EwPath p = path();
  for_elements(n, [&](int64_t lo, int64_t hi) { p.fill(y + lo, value, hi - lo); });
}

void copy(float* y, const float* x, int64_t n) {
  if (y == x || n == 0) return;
  for_elements(n, [&](int64_t lo, int64_t hi) {
    std::memmove(y + lo, x + lo, static_cast<size_t>(hi - lo) * sizeof(float));
  });
}

void square(float* y, const float* x, int64_t n) {
  EwPath p = path();
  for_elements(n, [&](int64_t lo, int64_t hi) { p.square(y + lo, x + lo, hi - lo); });
}

void sqrt(float* y, const float* x, int64_t n) {
  EwPath p = path();
  for_elements(n, [&](int64_t lo, int64_t hi) { p.sqrt(y + lo, x + lo, hi - lo); });
}

// Sum in double of the per-block sums (see sum_all).
static double sum_blocks(const float* x, int64_t n) {
  if (n <= 0) return 0.0;
  EwPath p = path();
  int64_t nb = (n + kSumBlock - 1) / kSumBlock;
  std::vector<double> blocks(static_cast<size_t>(nb));
  // Each block's sum depends only on its elements, and blocks are added in order below, so the
  // result is the same for any thread count.
#ifdef NK_OPENMP
#pragma omp parallel if (n > kParallelGrain)
#endif
  {
    int64_t b, e;
    thread_range(nb, 1, &b, &e);
    for (int64_t k = b; k < e; ++k) {
      int64_t lo = k * kSumBlock, len = std::min(kSumBlock, n - lo);
      blocks[k] = p.block_sum(x + lo, len);
    }
  }
  double s = 0.0;
  for (double v : blocks) s += v;
  return s;
}

float sum_all(const float* x, int64_t n) { return static_cast<float>(sum_blocks(x, n)); }

float mean_all(const float* x, int64_t n) {
  if (n <= 0) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(sum_blocks(x, n) / static_cast<double>(n));
}

void argmax_rows(int64_t* out, const float* x, int64_t N, int64_t C) {
  if (C <= 0) return;
  EwPath p = path();
  for_rows(N, C, [&](int64_t lo, int64_t hi) { p.argmax_rows(out + lo, x + lo * C, hi - lo, C); });
}

}  // namespace nk
