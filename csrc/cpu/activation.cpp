// activation.cpp - activation functions: the scalar reference loops, the name table and the
// dispatcher that picks the ISA path and splits work over OpenMP threads.
//
// Size letters: n elements; N rows and C columns for the row-wise softmax / log_softmax.
// Definitions (Keras; f' is what backward multiplies dy by; "(y)" = computed from the output):
//   linear        x                                   1
//   step          x > 0 ? 1 : 0   (Heaviside)         0
//   sign          -1, 0 or 1                          0
//   sigmoid       1 / (1 + e^-x)                      y (1 - y)            (y)
//   tanh          tanh x                              1 - y^2              (y)
//   relu          max(x, 0)                           x > 0
//   leaky_relu    x > 0 ? x : alpha x                 x > 0 ? 1 : alpha
//   elu           x > 0 ? x : alpha (e^x - 1)         x > 0 ? 1 : alpha e^x
//   relu6         min(max(x, 0), 6)                   0 < x < 6
//   softplus      log(1 + e^x) = max(x,0) + log1p(e^-|x|)   sigmoid(x)
//   softsign      x / (1 + |x|)                       1 / (1 + |x|)^2
//   selu          scale * elu(x, 1.6732632)           scale * (x > 0 ? 1 : 1.6732632 e^x)
//   silu (swish)  x sigmoid(x)                        s (1 + x (1 - s))
//   exponential   e^x                                 e^x
//   hard_sigmoid  clip(x / 6 + 1/2, 0, 1)  (Keras 3)  |x| < 3 ? 1/6 : 0
//   softmax       e^(x - max) / sum e^(x - max)       dx = y (dy - sum(dy y))          (y)
//   log_softmax   x - max - log sum e^(x - max)       dx = dy - e^y sum(dy)            (y)
// Backward OVERWRITES dx. At a kink the derivative is the value on the x <= 0 side, as in
// TensorFlow (relu'(0) = 0, leaky_relu'(0) = alpha, relu6'(6) = 0).
// alpha defaults (used when Python passes None): leaky_relu 0.3 (the Keras LeakyReLU layer; the
// keras.activations.leaky_relu function's 0.2 is applied in python/neurokern/activations.py), elu 1.
#include "cpu/activation.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/errors.h"
#include "core/parallel.h"

namespace nk {

namespace {
constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;
}  // namespace

const std::vector<ActivationInfo>& activation_table() {
  // Order must match enum Act, then softmax, log_softmax.
  static const std::vector<ActivationInfo> table = {
      {"linear", false, false, 0.0f, false, "x"},
      {"step", false, false, 0.0f, false, "x > 0 ? 1 : 0"},
      {"sign", false, false, 0.0f, false, "-1, 0 or 1"},
      {"sigmoid", true, false, 0.0f, false, "1 / (1 + exp(-x))"},
      {"tanh", true, false, 0.0f, false, "tanh(x)"},
      {"relu", false, false, 0.0f, false, "max(x, 0)"},
      {"leaky_relu", false, true, 0.3f, false, "x > 0 ? x : alpha * x"},
      {"elu", false, true, 1.0f, false, "x > 0 ? x : alpha * (exp(x) - 1)"},
      {"relu6", false, false, 0.0f, false, "min(max(x, 0), 6)"},
      {"softplus", false, false, 0.0f, false, "log(1 + exp(x))"},
      {"softsign", false, false, 0.0f, false, "x / (1 + |x|)"},
      {"selu", false, false, 0.0f, false, "1.0507 * elu(x, 1.6733)"},
      {"silu", false, false, 0.0f, false, "x * sigmoid(x)"},
      {"exponential", false, false, 0.0f, false, "exp(x)"},
      {"hard_sigmoid", false, false, 0.0f, false, "clip(x / 6 + 0.5, 0, 1)"},
      {"softmax", true, false, 0.0f, true, "exp(x - max) / sum(exp(x - max)) over the last axis"},
      {"log_softmax", true, false, 0.0f, true, "x - max - log(sum(exp(x - max))) over the last axis"},
  };
  return table;
}

int activation_index(const std::string& name) {
  const auto& t = activation_table();
  for (size_t i = 0; i < t.size(); ++i)
    if (name == t[i].name) return static_cast<int>(i);
  if (name == "swish") return static_cast<int>(Act::silu);  // Keras' other name for silu
  std::string known;
  for (const auto& a : t) known += (known.empty() ? "" : ", ") + std::string(a.name);
  throw std::invalid_argument(msg("Unknown activation function: '", name, "'. Available: ", known));
}

// ---- scalar reference ---------------------------------------------------------------------------
namespace act_scalar {

static inline float sigmoidf(float x) {
  // exp of a non-positive number only: no overflow for any x
  float e = std::exp(-std::fabs(x));
  return x >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

static inline float forward1(int act, float x, float alpha) {
  switch (static_cast<Act>(act)) {
    case Act::linear: return x;
    case Act::step: return x > 0.0f ? 1.0f : 0.0f;
    case Act::sign: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);  // keeps 0, -0, NaN
    case Act::sigmoid: return sigmoidf(x);
    case Act::tanh: return std::tanh(x);
    case Act::relu: return x > 0.0f ? x : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? x : alpha * x;
    case Act::elu: return x > 0.0f ? x : alpha * std::expm1(x);
    case Act::relu6: return std::min(std::max(x, 0.0f), 6.0f);
    case Act::softplus: return std::max(x, 0.0f) + std::log1p(std::exp(-std::fabs(x)));
    case Act::softsign: return x / (1.0f + std::fabs(x));
    case Act::selu: return kSeluScale * (x > 0.0f ? x : kSeluAlpha * std::expm1(x));
    case Act::silu: return x * sigmoidf(x);
    case Act::exponential: return std::exp(x);
    case Act::hard_sigmoid: return std::min(std::max(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
  }
  return x;
}

// f'(.) given the saved input x and output y (only one is meaningful per activation)
static inline float deriv1(int act, float x, float y, float alpha) {
  switch (static_cast<Act>(act)) {
    case Act::linear: return 1.0f;
    case Act::step: return 0.0f;
    case Act::sign: return 0.0f;
    case Act::sigmoid: return y * (1.0f - y);
    case Act::tanh: return 1.0f - y * y;
    case Act::relu: return x > 0.0f ? 1.0f : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? 1.0f : alpha;
    case Act::elu: return x > 0.0f ? 1.0f : alpha * std::exp(x);
    case Act::relu6: return (x > 0.0f && x < 6.0f) ? 1.0f : 0.0f;
    case Act::softplus: return sigmoidf(x);
    case Act::softsign: { float d = 1.0f + std::fabs(x); return 1.0f / (d * d); }
    case Act::selu: return x > 0.0f ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(x);
    case Act::silu: { float s = sigmoidf(x); return s * (1.0f + x * (1.0f - s)); }
    case Act::exponential: return std::exp(x);
    case Act::hard_sigmoid: return (x > -3.0f && x < 3.0f) ? 1.0f / 6.0f : 0.0f;
  }
  return 1.0f;
}

// One loop per activation: A is a compile-time constant, so the switch in forward1/deriv1 folds
// away and the simple cases (relu, leaky_relu, ...) vectorise at the baseline SSE2 width.
template <int A>
static void forward_loop(float* y, const float* x, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) y[i] = forward1(A, x[i], alpha);
}

template <int A>
static void backward_loop(float* dx, const float* dy, const float* x, const float* y, int64_t n, float alpha) {
  if (activation_table()[A].takes_output) {
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * deriv1(A, 0.0f, y[i], alpha);
  } else {
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * deriv1(A, x[i], 0.0f, alpha);
  }
}

template <int... A>
static void forward_switch(std::integer_sequence<int, A...>, int act, float* y, const float* x, int64_t n,
                           float alpha) {
  ((act == A ? forward_loop<A>(y, x, n, alpha) : void()), ...);
}

template <int... A>
static void backward_switch(std::integer_sequence<int, A...>, int act, float* dx, const float* dy,
                            const float* x, const float* y, int64_t n, float alpha) {
  ((act == A ? backward_loop<A>(dx, dy, x, y, n, alpha) : void()), ...);
}

void forward(int act, float* y, const float* x, int64_t n, float alpha) {
  forward_switch(std::make_integer_sequence<int, kNumElementwiseActs>{}, act, y, x, n, alpha);
}

void backward(int act, float* dx, const float* dy, const float* x, const float* y, int64_t n,
              float alpha) {
  backward_switch(std::make_integer_sequence<int, kNumElementwiseActs>{}, act, dx, dy, x, y, n, alpha);
}

void softmax_rows(float* y, const float* x, int64_t N, int64_t C, bool log) {
  for (int64_t r = 0; r < N; ++r) {
    const float* xr = x + r * C;  // (C,)
    float* yr = y + r * C;        // (C,)
    float mx = -INFINITY;
    for (int64_t c = 0; c < C; ++c) mx = std::max(mx, xr[c]);  // subtract the max: exp never overflows
    if (mx == -INFINITY) mx = 0.0f;  // an all -inf row: avoid (-inf) - (-inf) = NaN
    double sum = 0.0;  // row sums in double: the reference should not be the least accurate path
    if (log) {
      for (int64_t c = 0; c < C; ++c) sum += std::exp(xr[c] - mx);
      // (x - max) is exact for x near max; adding max back into a log-sum-exp first would round
      // it at max's magnitude
      float lsum = static_cast<float>(std::log(sum));
      for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - mx) - lsum;
    } else {
      for (int64_t c = 0; c < C; ++c) { yr[c] = std::exp(xr[c] - mx); sum += yr[c]; }
      float inv = static_cast<float>(1.0 / sum);
      for (int64_t c = 0; c < C; ++c) yr[c] *= inv;
    }
  }
}

void softmax_backward_rows(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log) {
  for (int64_t r = 0; r < N; ++r) {
    const float* dyr = dy + r * C;  // (C,)
    const float* yr = y + r * C;    // (C,)
    float* dxr = dx + r * C;        // (C,)
    double acc = 0.0;
    if (log) {
      for (int64_t c = 0; c < C; ++c) acc += dyr[c];
      float s = static_cast<float>(acc);
      for (int64_t c = 0; c < C; ++c) dxr[c] = dyr[c] - std::exp(yr[c]) * s;
    } else {
      for (int64_t c = 0; c < C; ++c) acc += static_cast<double>(dyr[c]) * yr[c];
      float s = static_cast<float>(acc);
      for (int64_t c = 0; c < C; ++c) dxr[c] = yr[c] * (dyr[c] - s);
    }
  }
}

}  // namespace act_scalar

// ---- dispatch ------------------------------------------------------------------------------------
namespace {

using FwdFn = void (*)(int, float*, const float*, int64_t, float);
using BwdFn = void (*)(int, float*, const float*, const float*, const float*, int64_t, float);
using RowFn = void (*)(float*, const float*, int64_t, int64_t, bool);
using RowBwdFn = void (*)(float*, const float*, const float*, int64_t, int64_t, bool);

struct Path { FwdFn fwd; BwdFn bwd; RowFn rows; RowBwdFn rows_bwd; };

Path path() {
  switch (active_isa()) {
    case Isa::avx512:
      return {act_avx512::forward, act_avx512::backward, act_avx512::softmax_rows,
              act_avx512::softmax_backward_rows};
    case Isa::avx2:
      return {act_avx2::forward, act_avx2::backward, act_avx2::softmax_rows,
              act_avx2::softmax_backward_rows};
    default:
      return {act_scalar::forward, act_scalar::backward, act_scalar::softmax_rows,
              act_scalar::softmax_backward_rows};
  }
}

// Elements below which one thread does the whole call. kParallelGrain is sized for memory-bound
// loops (relu: ~0.2 ns/element); activations that evaluate exp/log cost ~0.5-1 ns/element even
// vectorised, so a fork/join (1-4 us) pays off at a quarter of that size.
int64_t grain_for(int index) {
  switch (static_cast<Act>(index)) {
    case Act::linear: case Act::step: case Act::sign: case Act::relu: case Act::leaky_relu:
    case Act::relu6: case Act::hard_sigmoid: case Act::softsign:
      return kParallelGrain;
    default:
      return kParallelGrain / 4;  // transcendental ones, softmax and log_softmax
  }
}

// Rows per thread chunk: split rows when the whole (N, C) block is big enough.
template <typename F>
void for_rows(int64_t N, int64_t C, int64_t grain, F body) {
#ifdef NK_OPENMP
#pragma omp parallel if (N > 1 && N * C > grain)
#endif
  {
    int64_t b, e;
    thread_range(N, 1, &b, &e);
    if (b < e) body(b, e);
  }
}

template <typename F>
void for_elements(int64_t n, int64_t grain, F body) {
#ifdef NK_OPENMP
#pragma omp parallel if (n > grain)
#endif
  {
    int64_t b, e;
    thread_range(n, 64, &b, &e);  // chunks of whole cache lines / zmm vectors
    if (b < e) body(b, e);
  }
}

}  // namespace

void activation_forward(int index, float* y, const float* x, int64_t n, int64_t C, float alpha) {
  NK_CHECK(index >= 0 && index < static_cast<int>(activation_table().size()), "bad activation index ", index);
  if (n == 0) return;
  Path p = path();
  if (activation_table()[index].rowwise) {
    NK_CHECK(C > 0 && n % C == 0, "softmax: row length ", C, " does not divide ", n);
    bool log = std::string(activation_table()[index].name) == "log_softmax";
    for_rows(n / C, C, grain_for(index), [&](int64_t b, int64_t e) { p.rows(y + b * C, x + b * C, e - b, C, log); });
    return;
  }
  for_elements(n, grain_for(index), [&](int64_t b, int64_t e) { p.fwd(index, y + b, x + b, e - b, alpha); });
}

void activation_backward(int index, float* dx, const float* dy, const float* x, const float* y,
                         int64_t n, int64_t C, float alpha) {
  NK_CHECK(index >= 0 && index < static_cast<int>(activation_table().size()), "bad activation index ", index);
  if (n == 0) return;
  Path p = path();
  const auto& info = activation_table()[index];
  NK_CHECK(info.takes_output ? y != nullptr : x != nullptr, info.name, "_backward needs the saved ",
           info.takes_output ? "output y" : "input x");
  if (info.rowwise) {
    NK_CHECK(C > 0 && n % C == 0, "softmax: row length ", C, " does not divide ", n);
    bool log = std::string(info.name) == "log_softmax";
    for_rows(n / C, C, grain_for(index), [&](int64_t b, int64_t e) {
      p.rows_bwd(dx + b * C, dy + b * C, y + b * C, e - b, C, log);
    });
    return;
  }
  for_elements(n, grain_for(index), [&](int64_t b, int64_t e) {
    p.bwd(index, dx + b, dy + b, x ? x + b : nullptr, y ? y + b : nullptr, e - b, alpha);
  });
}

// ---- named wrappers --------------------------------------------------------------------------
#define NK_ACT_X(NAME)                                                                       \
  void NAME##_forward(float* y, const float* x, int64_t n) {                                 \
    activation_forward(static_cast<int>(Act::NAME), y, x, n, 1, 0.0f);                      \
  }                                                                                          \
  void NAME##_backward(float* dx, const float* dy, const float* x, int64_t n) {              \
    activation_backward(static_cast<int>(Act::NAME), dx, dy, x, nullptr, n, 1, 0.0f);        \
  }
#define NK_ACT_Y(NAME)                                                                       \
  void NAME##_forward(float* y, const float* x, int64_t n) {                                 \
    activation_forward(static_cast<int>(Act::NAME), y, x, n, 1, 0.0f);                      \
  }                                                                                          \
  void NAME##_backward(float* dx, const float* dy, const float* y, int64_t n) {              \
    activation_backward(static_cast<int>(Act::NAME), dx, dy, nullptr, y, n, 1, 0.0f);        \
  }
#define NK_ACT_ALPHA(NAME)                                                                   \
  void NAME##_forward(float* y, const float* x, int64_t n, float alpha) {                    \
    activation_forward(static_cast<int>(Act::NAME), y, x, n, 1, alpha);                     \
  }                                                                                          \
  void NAME##_backward(float* dx, const float* dy, const float* x, int64_t n, float alpha) { \
    activation_backward(static_cast<int>(Act::NAME), dx, dy, x, nullptr, n, 1, alpha);       \
  }
NK_ACT_X(linear)
NK_ACT_X(step)
NK_ACT_X(sign)
NK_ACT_Y(sigmoid)
NK_ACT_Y(tanh)
NK_ACT_X(relu)
NK_ACT_ALPHA(leaky_relu)
NK_ACT_ALPHA(elu)
NK_ACT_X(relu6)
NK_ACT_X(softplus)
NK_ACT_X(softsign)
NK_ACT_X(selu)
NK_ACT_X(silu)
NK_ACT_X(exponential)
NK_ACT_X(hard_sigmoid)
#undef NK_ACT_X
#undef NK_ACT_Y
#undef NK_ACT_ALPHA

static const int kSoftmax = kNumElementwiseActs, kLogSoftmax = kNumElementwiseActs + 1;

void softmax_forward(float* y, const float* x, int64_t N, int64_t C) {
  activation_forward(kSoftmax, y, x, N * C, C, 0.0f);
}
void softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C) {
  activation_backward(kSoftmax, dx, dy, nullptr, y, N * C, C, 0.0f);
}
void log_softmax_forward(float* y, const float* x, int64_t N, int64_t C) {
  activation_forward(kLogSoftmax, y, x, N * C, C, 0.0f);
}
void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C) {
  activation_backward(kLogSoftmax, dx, dy, nullptr, y, N * C, C, 0.0f);
}

}  // namespace nk
