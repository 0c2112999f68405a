// elementwise.h - elementwise arithmetic and reductions used by layers, losses, optimizers, metrics.
//
// Size letters: n elements; N rows and C columns of a row-major (N, C) matrix.
//
//   bias_add_forward   y[N,C] = x[N,C] + b[C]          (y may equal x: in place)
//   bias_add_backward  db[C] += sum_N dy[N,C]          ACCUMULATES (a parameter gradient)
//   add / sub / mul / div   y[n] = a[n] op b[n]        (y may equal a or b)
//   scale              y[n] = alpha * x[n]
//   axpy               y[n] += alpha * x[n]
//   fill / copy        y[n] = value / y[n] = x[n]
//   square / sqrt      y[n] = x[n]^2 / sqrt(x[n])
//   sum_rows           out[C] = sum_N x[N,C]           (overwrites out)
//   sum_all / mean_all sum or mean of x[n] -> float; float lanes inside 1024-element blocks, block
//                      sums added in double in block order (the result does not depend on threads)
//   argmax_rows        out[N] (int64) = first index of the largest x[N,C] in each row (NaN wins,
//                      like NumPy)
//
// Paths: the plain loops of cpu/elementwise_kernels.inc are compiled three times - baseline x86-64
// ("scalar", SSE2), -mavx2 -mfma and -mavx512f - and chosen by nk::active_isa(); the compiler
// vectorises them at each width. Calls above kParallelGrain elements run on OpenMP threads.
#pragma once
#include <cstdint>

namespace nk {

void bias_add_forward(float* y, const float* x, const float* b, int64_t N, int64_t C);
void bias_add_backward(float* db, const float* dy, int64_t N, int64_t C);
void add(float* y, const float* a, const float* b, int64_t n);
void sub(float* y, const float* a, const float* b, int64_t n);
void mul(float* y, const float* a, const float* b, int64_t n);
void div(float* y, const float* a, const float* b, int64_t n);
void scale(float* y, const float* x, float alpha, int64_t n);
void axpy(float* y, const float* x, float alpha, int64_t n);
void fill(float* y, float value, int64_t n);
void copy(float* y, const float* x, int64_t n);
void square(float* y, const float* x, int64_t n);
void sqrt(float* y, const float* x, int64_t n);
void sum_rows(float* out, const float* x, int64_t N, int64_t C);
float sum_all(const float* x, int64_t n);
float mean_all(const float* x, int64_t n);  // NaN for n == 0, like NumPy
void argmax_rows(int64_t* out, const float* x, int64_t N, int64_t C);

// Per-ISA serial chunk kernels (cpu/elementwise_kernels.inc); the functions above split work
// across threads and pick a namespace.
#define NK_EW_DECLS                                                                         \
  void bias_add(float* y, const float* x, const float* b, int64_t N, int64_t C);            \
  void colsum_acc(double* acc, const float* x, int64_t N, int64_t C, int64_t ldx);          \
  void binary(int op, float* y, const float* a, const float* b, int64_t n);                 \
  void scale(float* y, const float* x, float alpha, int64_t n);                             \
  void axpy(float* y, const float* x, float alpha, int64_t n);                              \
  void fill(float* y, float value, int64_t n);                                              \
  void square(float* y, const float* x, int64_t n);                                         \
  void sqrt(float* y, const float* x, int64_t n);                                           \
  double block_sum(const float* x, int64_t n);                                              \
  void argmax_rows(int64_t* out, const float* x, int64_t N, int64_t C);
namespace ew_scalar { NK_EW_DECLS }
namespace ew_avx2 { NK_EW_DECLS }
namespace ew_avx512 { NK_EW_DECLS }
#undef NK_EW_DECLS

enum EwBinaryOp : int { kEwAdd = 0, kEwSub = 1, kEwMul = 2, kEwDiv = 3 };
constexpr int64_t kSumBlock = 1024;  // elements per block of sum_all

}  // namespace nk
