// activation.h - activation functions on the device (the CUDA twin of cpu/activation.h).
//
// Size letters: n elements (elementwise activations); N rows, C columns (softmax and log_softmax act
// on each row of a row-major (N, C) view, i.e. over the LAST axis).
//
// Forward:   y[n] = f(x[n])                      (y may equal x: in place)
// Backward:  dx[n] = dy[n] * f'(.)               OVERWRITES dx; dx may equal dy
//   sigmoid, tanh, softmax and log_softmax backward take the saved OUTPUT y; the others take x.
// Formulas, alpha defaults and the derivative at kinks are those of cpu/activation.cpp; `index` is
// the position in nk::activation_table() (the elementwise ones in nk::Act order, then softmax,
// log_softmax). All pointers are device pointers; calls are asynchronous on the default stream.
//
// Kernels (csrc/cuda/activation.cu):
//   activation_forward_kernel<A> / activation_backward_kernel<A>   grid-stride, one instantiation
//                                                                   per activation A
//   softmax_forward_kernel<false> / softmax_backward_kernel<false> warp_reduce: one warp per row
//                                                                   (C <= kSoftmaxWarpMaxC)
//   softmax_forward_kernel<true>  / softmax_backward_kernel<true>  block_reduce: one 256-thread
//                                                                   block per row (longer rows)
#pragma once
#include <cstdint>

namespace nk::cuda {

constexpr int64_t kSoftmaxWarpMaxC = 1024;  // rows up to this length use one warp each

// ---- generic entry points (used by the binding) ----------------------------------------------
void activation_forward(int index, float* y, const float* x, int64_t n, int64_t C, float alpha);
void activation_backward(int index, float* dx, const float* dy, const float* x, const float* y,
                         int64_t n, int64_t C, float alpha);

// ---- named kernels (C++ callers in other kernel files) -----------------------------------------
// x, y, dx, dy: (n,) for the elementwise ones; (N, C) for softmax / log_softmax.
void linear_forward(float* y, const float* x, int64_t n);
void linear_backward(float* dx, const float* dy, const float* x, int64_t n);
void step_forward(float* y, const float* x, int64_t n);
void step_backward(float* dx, const float* dy, const float* x, int64_t n);
void sign_forward(float* y, const float* x, int64_t n);
void sign_backward(float* dx, const float* dy, const float* x, int64_t n);
void sigmoid_forward(float* y, const float* x, int64_t n);
void sigmoid_backward(float* dx, const float* dy, const float* y, int64_t n);
void tanh_forward(float* y, const float* x, int64_t n);
void tanh_backward(float* dx, const float* dy, const float* y, int64_t n);
void relu_forward(float* y, const float* x, int64_t n);
void relu_backward(float* dx, const float* dy, const float* x, int64_t n);
void leaky_relu_forward(float* y, const float* x, int64_t n, float alpha);
void leaky_relu_backward(float* dx, const float* dy, const float* x, int64_t n, float alpha);
void elu_forward(float* y, const float* x, int64_t n, float alpha);
void elu_backward(float* dx, const float* dy, const float* x, int64_t n, float alpha);
void relu6_forward(float* y, const float* x, int64_t n);
void relu6_backward(float* dx, const float* dy, const float* x, int64_t n);
void softplus_forward(float* y, const float* x, int64_t n);
void softplus_backward(float* dx, const float* dy, const float* x, int64_t n);
void softsign_forward(float* y, const float* x, int64_t n);
void softsign_backward(float* dx, const float* dy, const float* x, int64_t n);
void selu_forward(float* y, const float* x, int64_t n);
void selu_backward(float* dx, const float* dy, const float* x, int64_t n);
void silu_forward(float* y, const float* x, int64_t n);
void silu_backward(float* dx, const float* dy, const float* x, int64_t n);
void exponential_forward(float* y, const float* x, int64_t n);
void exponential_backward(float* dx, const float* dy, const float* x, int64_t n);
void hard_sigmoid_forward(float* y, const float* x, int64_t n);
void hard_sigmoid_backward(float* dx, const float* dy, const float* x, int64_t n);
void softmax_forward(float* y, const float* x, int64_t N, int64_t C);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C);
void log_softmax_forward(float* y, const float* x, int64_t N, int64_t C);
void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C);

}  // namespace nk::cuda
