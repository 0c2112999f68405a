// activation_avx2.cpp - placeholder: forwards to the scalar path until the SIMD version lands.
#include "cpu/activation.h"

namespace nk {
namespace act_avx2 {
void forward(int act, float* y, const float* x, int64_t n, float alpha) { act_scalar::forward(act, y, x, n, alpha); }
void backward(int act, float* dx, const float* dy, const float* x, const float* y, int64_t n, float alpha) {
  act_scalar::backward(act, dx, dy, x, y, n, alpha);
}
void softmax_rows(float* y, const float* x, int64_t N, int64_t C, bool log) { act_scalar::softmax_rows(y, x, N, C, log); }
void softmax_backward_rows(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log) {
  act_scalar::softmax_backward_rows(dx, dy, y, N, C, log);
}
}  // namespace act_avx2
}  // namespace nk
