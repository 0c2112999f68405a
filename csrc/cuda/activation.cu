// activation.cu - activation functions on the device: forward and backward side by side.
// Definitions (Keras; f' is what backward multiplies dy by; "(y)" = computed from the output), the
// same as cpu/activation.cpp:
//   linear        x                                   1
//   step          x > 0 ? 1 : 0                       0
//   sign          -1, 0 or 1                          0
//   sigmoid       1 / (1 + e^-x)                      y (1 - y)            (y)
//   tanh          tanh x                              1 - y^2              (y)
//   relu          max(x, 0)                           x > 0
//   leaky_relu    x > 0 ? x : alpha x                 x > 0 ? 1 : alpha
//   elu           x > 0 ? x : alpha (e^x - 1)         x > 0 ? 1 : alpha e^x
//   relu6         min(max(x, 0), 6)                   0 < x < 6
//   softplus      max(x,0) + log1p(e^-|x|)            sigmoid(x)
//   softsign      x / (1 + |x|)                       1 / (1 + |x|)^2
//   selu          scale * elu(x, 1.6732632)           scale * (x > 0 ? 1 : 1.6732632 e^x)
//   silu (swish)  x sigmoid(x)                        s (1 + x (1 - s))
//   exponential   e^x                                 e^x
//   hard_sigmoid  clip(x / 6 + 1/2, 0, 1)             |x| < 3 ? 1/6 : 0
//   softmax       e^(x - max) / sum e^(x - max)       dx = y (dy - sum(dy y))          (y)
//   log_softmax   x - max - log sum e^(x - max)       dx = dy - e^y sum(dy)            (y)
// Backward OVERWRITES dx. At a kink the derivative is the value on the x <= 0 side.
//
// Size letters: n elements; N rows and C columns for softmax / log_softmax (over the last axis).
// Kernels:
//   activation_forward_kernel<A>, activation_backward_kernel<A>   elementwise, grid-stride loop
//   softmax_forward_kernel<kBlock>, softmax_backward_kernel<kBlock>
//       kBlock = false (warp_reduce):  one warp per row, warp shuffles only (C <= kSoftmaxWarpMaxC)
//       kBlock = true  (block_reduce): one 256-thread block per row, block_max / block_sum (reduce.h)
// Row sums are float here (the CPU reference sums in double); the tests' tolerance covers it.
#include "cuda/activation.h"

#include <utility>

#include "core/errors.h"
#include "cpu/activation.h"  // nk::Act, kNumElementwiseActs: the shared activation numbering
#include "cuda/compat.h"
#include "cuda/reduce.h"

namespace nk::cuda {

namespace {

constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;
constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements: enough to fill a GPU, capped so that huge tensors
// loop instead of launching millions of blocks.
int grid_for(int64_t n) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 4096 ? blocks : 4096);
}

__device__ __forceinline__ float sigmoidf(float x) {
  float e = expf(-fabsf(x));  // exp of a non-positive number only: no overflow for any x
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

template <int A>
__device__ __forceinline__ float forward1(float x, float alpha) {
  switch (static_cast<Act>(A)) {
    case Act::linear: return x;
    case Act::step: return x > 0.0f ? 1.0f : 0.0f;
    case Act::sign: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);  // keeps 0, -0, NaN
    case Act::sigmoid: return sigmoidf(x);
    case Act::tanh: return tanhf(x);
    case Act::relu: return x > 0.0f ? x : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? x : alpha * x;
    case Act::elu: return x > 0.0f ? x : alpha * expm1f(x);
    case Act::relu6: return fminf(fmaxf(x, 0.0f), 6.0f);
    case Act::softplus: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    case Act::softsign: return x / (1.0f + fabsf(x));
    case Act::selu: return kSeluScale * (x > 0.0f ? x : kSeluAlpha * expm1f(x));
    case Act::silu: return x * sigmoidf(x);
    case Act::exponential: return expf(x);
    case Act::hard_sigmoid: return fminf(fmaxf(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
  }
  return x;
}

// f'(.) from the saved value s: the output y for sigmoid and tanh, the input x for the others.
template <int A>
__device__ __forceinline__ float deriv1(float s, float alpha) {
  const float x = s, y = s;
  switch (static_cast<Act>(A)) {
    case Act::linear: return 1.0f;
    case Act::step: return 0.0f;
    case Act::sign: return 0.0f;
    case Act::sigmoid: return y * (1.0f - y);
    case Act::tanh: return 1.0f - y * y;
    case Act::relu: return x > 0.0f ? 1.0f : 0.0f;
    case Act::leaky_relu: return x > 0.0f ? 1.0f : alpha;
    case Act::elu: return x > 0.0f ? 1.0f : alpha * expf(x);
    case Act::relu6: return (x > 0.0f && x < 6.0f) ? 1.0f : 0.0f;
    case Act::softplus: return sigmoidf(x);
    case Act::softsign: { float d = 1.0f + fabsf(x); return 1.0f / (d * d); }
    case Act::selu: return x > 0.0f ? kSeluScale : kSeluScale * kSeluAlpha * expf(x);
    case Act::silu: { float sg = sigmoidf(x); return sg * (1.0f + x * (1.0f - sg)); }
    case Act::exponential: return expf(x);
    case Act::hard_sigmoid: return (x > -3.0f && x < 3.0f) ? 1.0f / 6.0f : 0.0f;
  }
  return 1.0f;
}

// y[n] = f(x[n]); y may be x.
template <int A>
__global__ void activation_forward_kernel(float* y, const float* x, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = forward1<A>(x[i], alpha);
}

// dx[n] = dy[n] * f'(s[n]), s the saved x or y; dx may be dy.
template <int A>
__global__ void activation_backward_kernel(float* dx, const float* dy, const float* s, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * deriv1<A>(s[i], alpha);
}

template <int A>
void launch_forward(float* y, const float* x, int64_t n, float alpha) {
  NK_LAUNCH(activation_forward_kernel<A>, grid_for(n), kThreads, 0, y, x, n, alpha);
  NK_CHECK_LAUNCH("activation_forward_kernel");
}

template <int A>
void launch_backward(float* dx, const float* dy, const float* s, int64_t n, float alpha) {
  NK_LAUNCH(activation_backward_kernel<A>, grid_for(n), kThreads, 0, dx, dy, s, n, alpha);
  NK_CHECK_LAUNCH("activation_backward_kernel");
}

// Run-time index -> compile-time kernel: one comparison per activation, folded over 0..14.
template <int... A>
void forward_switch(std::integer_sequence<int, A...>, int act, float* y, const float* x, int64_t n, float alpha) {
  ((act == A ? launch_forward<A>(y, x, n, alpha) : void()), ...);
}
template <int... A>
void backward_switch(std::integer_sequence<int, A...>, int act, float* dx, const float* dy, const float* s,
                     int64_t n, float alpha) {
  ((act == A ? launch_backward<A>(dx, dy, s, n, alpha) : void()), ...);
}

// ---- softmax / log_softmax over rows ------------------------------------------------------------
// The same kernel body for both reductions. kBlock = false: warp w of block b owns row
// b * (blockDim.x / 32) + w and its 32 lanes stride the row; kBlock = true: block b owns row b and
// all its threads stride it. A whole warp leaves together when its row is past N (no barrier in
// the warp version), so the early return is safe.
template <bool kBlock>
__device__ __forceinline__ float row_max(float v) {
  if constexpr (kBlock) return block_max(v); else return warp_max(v);
}
template <bool kBlock>
__device__ __forceinline__ float row_sum(float v) {
  if constexpr (kBlock) return block_sum(v); else return warp_sum(v);
}

template <bool kBlock>
__device__ __forceinline__ bool row_slot(int64_t N, int64_t* row, int* first, int* stride) {
  if (kBlock) {
    *row = blockIdx.x; *first = threadIdx.x; *stride = blockDim.x;
  } else {
    *row = blockIdx.x * static_cast<int64_t>(blockDim.x / 32) + threadIdx.x / 32;
    *first = threadIdx.x % 32; *stride = 32;
  }
  return *row < N;
}

// y (N, C) = softmax or log_softmax of each row of x (N, C); y may be x.
template <bool kBlock>
__global__ void softmax_forward_kernel(float* y, const float* x, int64_t N, int64_t C, bool log) {
  int64_t row; int first, stride;
  if (!row_slot<kBlock>(N, &row, &first, &stride)) return;
  const float* xr = x + row * C;
  float* yr = y + row * C;  // each thread touches only its own columns: y may be x

  float mx = -INFINITY;
  for (int64_t c = first; c < C; c += stride) mx = fmaxf(mx, xr[c]);
  mx = row_max<kBlock>(mx);       // subtract the max: exp never overflows
  if (mx == -INFINITY) mx = 0.0f;  // an all -inf row: avoid (-inf) - (-inf) = NaN

  float sum = 0.0f;
  for (int64_t c = first; c < C; c += stride) sum += expf(xr[c] - mx);
  sum = row_sum<kBlock>(sum);

  if (log) {
    const float lsum = logf(sum);  // (x - max) is exact near the max; subtract log-sum separately
    for (int64_t c = first; c < C; c += stride) yr[c] = (xr[c] - mx) - lsum;
  } else {
    const float inv = 1.0f / sum;
    for (int64_t c = first; c < C; c += stride) yr[c] = expf(xr[c] - mx) * inv;
  }
}

// softmax:      dx = y (dy - sum(dy y))
// log_softmax:  dx = dy - e^y sum(dy)
// dx (N, C) overwritten; dy, y (N, C); dx may be dy.
template <bool kBlock>
__global__ void softmax_backward_kernel(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log) {
  int64_t row; int first, stride;
  if (!row_slot<kBlock>(N, &row, &first, &stride)) return;
  const float* dyr = dy + row * C;
  const float* yr = y + row * C;
  float* dxr = dx + row * C;

  float acc = 0.0f;
  for (int64_t c = first; c < C; c += stride) acc += log ? dyr[c] : dyr[c] * yr[c];
  const float s = row_sum<kBlock>(acc);
  // each thread reads and writes only its own columns c, so dx may alias dy (and y may alias x)
  for (int64_t c = first; c < C; c += stride)
    dxr[c] = log ? dyr[c] - expf(yr[c]) * s : yr[c] * (dyr[c] - s);
}

void softmax_run(float* y, const float* x, int64_t N, int64_t C, bool log) {
  if (N == 0 || C == 0) return;
  if (C <= kSoftmaxWarpMaxC) {
    const int rows_per_block = 4;  // 4 warps = 128 threads
    NK_CHECK(N <= 2147483647LL * rows_per_block, "softmax: too many rows (", N, ")");
    NK_LAUNCH(softmax_forward_kernel<false>, static_cast<int>((N + rows_per_block - 1) / rows_per_block),
              32 * rows_per_block, 0, y, x, N, C, log);
    NK_CHECK_LAUNCH("softmax_forward_kernel<warp_reduce>");
  } else {
    NK_CHECK(N <= 2147483647LL, "softmax: too many rows (", N, ")");
    NK_LAUNCH(softmax_forward_kernel<true>, static_cast<int>(N), kThreads, 0, y, x, N, C, log);
    NK_CHECK_LAUNCH("softmax_forward_kernel<block_reduce>");
  }
}

void softmax_backward_run(float* dx, const float* dy, const float* y, int64_t N, int64_t C, bool log) {
  if (N == 0 || C == 0) return;
  if (C <= kSoftmaxWarpMaxC) {
    const int rows_per_block = 4;
    NK_CHECK(N <= 2147483647LL * rows_per_block, "softmax_backward: too many rows (", N, ")");
    NK_LAUNCH(softmax_backward_kernel<false>, static_cast<int>((N + rows_per_block - 1) / rows_per_block),
              32 * rows_per_block, 0, dx, dy, y, N, C, log);
    NK_CHECK_LAUNCH("softmax_backward_kernel<warp_reduce>");
  } else {
    NK_CHECK(N <= 2147483647LL, "softmax_backward: too many rows (", N, ")");
    NK_LAUNCH(softmax_backward_kernel<true>, static_cast<int>(N), kThreads, 0, dx, dy, y, N, C, log);
    NK_CHECK_LAUNCH("softmax_backward_kernel<block_reduce>");
  }
}

constexpr int kSoftmax = kNumElementwiseActs, kLogSoftmax = kNumElementwiseActs + 1;

bool takes_output(int index) {
  return index == static_cast<int>(Act::sigmoid) || index == static_cast<int>(Act::tanh) || index >= kSoftmax;
}

}  // namespace

// ---- host entry points -----------------------------------------------------------------------------
void activation_forward(int index, float* y, const float* x, int64_t n, int64_t C, float alpha) {
  NK_CHECK(index >= 0 && index <= kLogSoftmax, "bad activation index ", index);
  if (n == 0) return;
  if (index >= kSoftmax) {
    NK_CHECK(C > 0 && n % C == 0, "softmax: row length ", C, " does not divide ", n);
    softmax_run(y, x, n / C, C, index == kLogSoftmax);
    return;
  }
  forward_switch(std::make_integer_sequence<int, kNumElementwiseActs>{}, index, y, x, n, alpha);
}

void activation_backward(int index, float* dx, const float* dy, const float* x, const float* y, int64_t n,
                         int64_t C, float alpha) {
  NK_CHECK(index >= 0 && index <= kLogSoftmax, "bad activation index ", index);
  if (n == 0) return;
  const float* s = takes_output(index) ? y : x;
  NK_CHECK(s != nullptr, "activation_backward: the saved ", takes_output(index) ? "output y" : "input x",
           " is missing");
  if (index >= kSoftmax) {
    NK_CHECK(C > 0 && n % C == 0, "softmax_backward: row length ", C, " does not divide ", n);
    softmax_backward_run(dx, dy, y, n / C, C, index == kLogSoftmax);
    return;
  }
  backward_switch(std::make_integer_sequence<int, kNumElementwiseActs>{}, index, dx, dy, s, n, alpha);
}

// Named wrappers: NAME_forward(y, x, n[, alpha]) / NAME_backward(dx, dy, saved, n[, alpha]).
#define NK_CUDA_ACT(NAME)                                                                     \
  void NAME##_forward(float* y, const float* x, int64_t n) {                                  \
    activation_forward(static_cast<int>(Act::NAME), y, x, n, 1, 0.0f);                        \
  }                                                                                           \
  void NAME##_backward(float* dx, const float* dy, const float* s, int64_t n) {               \
    activation_backward(static_cast<int>(Act::NAME), dx, dy, s, s, n, 1, 0.0f);               \
  }
#define NK_CUDA_ACT_ALPHA(NAME)                                                               \
  void NAME##_forward(float* y, const float* x, int64_t n, float alpha) {                     \
    activation_forward(static_cast<int>(Act::NAME), y, x, n, 1, alpha);                       \
  }                                                                                           \
  void NAME##_backward(float* dx, const float* dy, const float* s, int64_t n, float alpha) {  \
    activation_backward(static_cast<int>(Act::NAME), dx, dy, s, s, n, 1, alpha);              \
  }
NK_CUDA_ACT(linear) NK_CUDA_ACT(step) NK_CUDA_ACT(sign) NK_CUDA_ACT(sigmoid) NK_CUDA_ACT(tanh)
NK_CUDA_ACT(relu) NK_CUDA_ACT_ALPHA(leaky_relu) NK_CUDA_ACT_ALPHA(elu) NK_CUDA_ACT(relu6)
NK_CUDA_ACT(softplus) NK_CUDA_ACT(softsign) NK_CUDA_ACT(selu) NK_CUDA_ACT(silu) NK_CUDA_ACT(exponential)
NK_CUDA_ACT(hard_sigmoid)
#undef NK_CUDA_ACT
#undef NK_CUDA_ACT_ALPHA

void softmax_forward(float* y, const float* x, int64_t N, int64_t C) { softmax_run(y, x, N, C, false); }
void softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C) {
  softmax_backward_run(dx, dy, y, N, C, false);
}
void log_softmax_forward(float* y, const float* x, int64_t N, int64_t C) { softmax_run(y, x, N, C, true); }
void log_softmax_backward(float* dx, const float* dy, const float* y, int64_t N, int64_t C) {
  softmax_backward_run(dx, dy, y, N, C, true);
}

}  // namespace nk::cuda
