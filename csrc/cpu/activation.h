// activation.h - activation functions (Keras definitions), forward and backward.
//
// Size letters: n elements (elementwise activations); N rows, C columns (softmax and log_softmax
// act on each row of a row-major (N, C) view, i.e. over the LAST axis).
//
// Forward:   y[n] = f(x[n])                      (y may equal x: in place)
// Backward:  dx[n] = dy[n] * f'(.)               OVERWRITES dx (input gradient; no parameters here)
//   sigmoid, tanh, softmax and log_softmax backward take the saved OUTPUT y; the others take x.
//   dx may equal dy.
//
// Every activation has the same three paths, chosen at run time by nk::active_isa():
//   scalar - plain loop with libm (std::exp, std::tanh, std::log1p): the reference
//   avx2   - 8-wide intrinsics with the vector exp/log1p/tanh of cpu/simd_math.inc
//   avx512 - 16-wide intrinsics, same math, k-mask tails
// Calls run on OpenMP threads above kParallelGrain elements (a quarter of that for the ones that
// evaluate exp/log, which are compute-bound); softmax splits rows.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu_features.h"

namespace nk {

// The elementwise activations, in the order of activation_names().
enum class Act : int {
  linear, step, sign, sigmoid, tanh, relu, leaky_relu, elu, relu6, softplus, softsign,
  selu, silu, exponential, hard_sigmoid,
};
constexpr int kNumElementwiseActs = 15;
static_assert(static_cast<int>(Act::hard_sigmoid) + 1 == kNumElementwiseActs, "update kNumElementwiseActs");

struct ActivationInfo {
  const char* name;
  bool takes_output;      // backward uses the saved y (else x)
  bool has_alpha;         // uses the alpha parameter
  float default_alpha;    // used when Python passes alpha=None
  bool rowwise;           // softmax family: acts on rows of the last axis
  const char* formula;    // one line, for docs and error messages
};

// Every activation the generic entry points accept (elementwise ones first, then softmax, log_softmax).
const std::vector<ActivationInfo>& activation_table();
// Index into activation_table(); throws ValueError listing the names for an unknown one.
int activation_index(const std::string& name);

// ---- generic entry points (used by the binding) ----------------------------------------------
// y[n] = f(x[n]); for the row-wise ones n = N * C and C is the row length.
void activation_forward(int index, float* y, const float* x, int64_t n, int64_t C, float alpha);
// dx[n] = dy * f'; `x` and `y` are the saved forward input/output (only the one the activation
// needs is read, the other may be null).
void activation_backward(int index, float* dx, const float* dy, const float* x, const float* y,
                         int64_t n, int64_t C, float alpha);

// ---- named kernels (C++ callers: layers in other kernel files) --------------------------------
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
// softmax / log_softmax over rows: x, y (N, C)
void softmax_forward(float* y, const float* x, int64_t N, int64_t C);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C);
void log_softmax_forward(float* y, const float* x, int64_t N, int64_t C);
void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C);

// ---- per-ISA chunk kernels (serial; the dispatcher splits work across threads) --------------
// `act` is an Act value; softmax functions process rows [0, N).
namespace act_scalar {
void forward(int act, float* y, const float* x, int64_t n, float alpha);
void backward(int act, float* dx, const float* dy, const float* x, const float* y, int64_t n, float alpha);
void softmax_rows(float* y, const float* x, int64_t N, int64_t C, bool log);
void softmax_backward_rows(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log);
}  // namespace act_scalar
namespace act_avx2 {
void forward(int act, float* y, const float* x, int64_t n, float alpha);
void backward(int act, float* dx, const float* dy, const float* x, const float* y, int64_t n, float alpha);
void softmax_rows(float* y, const float* x, int64_t N, int64_t C, bool log);
void softmax_backward_rows(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log);
}  // namespace act_avx2
namespace act_avx512 {
void forward(int act, float* y, const float* x, int64_t n, float alpha);
void backward(int act, float* dx, const float* dy, const float* x, const float* y, int64_t n, float alpha);
void softmax_rows(float* y, const float* x, int64_t N, int64_t C, bool log);
void softmax_backward_rows(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log);
}  // namespace act_avx512

}  // namespace nk
