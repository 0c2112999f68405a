// elementwise.h - elementwise arithmetic and reductions on the device (the CUDA twin of
// cpu/elementwise.h; same names, same argument order, device pointers).
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
//   sum_rows           out[C] = sum_N x[N,C]           (overwrites out; column sums in double)
//   sum_all / mean_all sum or mean of x[n] -> host float (waits for the device); per-thread and
//                      per-block partial sums in double, fixed order, so the result is deterministic
//   argmax_rows        out[N] (int64, device) = first index of the largest x[N,C] in each row (NaN
//                      wins, like NumPy)
// Everything but sum_all / mean_all is asynchronous on the default stream.
#pragma once
#include <cstdint>

namespace nk::cuda {

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

}  // namespace nk::cuda
