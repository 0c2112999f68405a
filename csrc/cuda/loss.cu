// loss.cu - Keras loss functions on the GPU, forward and backward side by side. Definitions and
// formulas: cpu/loss.cpp's header (y = y_true, p = y_pred, z = logits, eps = 1e-7, lo = eps and
// hi = 1 - eps rounded to float32); size letters N, D, C as cuda/loss.h.
//
// Layout of the work:
//   row kernels     one warp per sample row (8 rows per 256-thread block): lane l handles
//                   d = l, l + 32, ...; per-row sums are in double and combined with warp_sum /
//                   warp_max (cuda/reduce.h). Lane 0 writes the row's loss to a double scratch and
//                   to per_sample.
//   mean_rows       one block sums the N row losses (thread-strided, then block_sum): a fixed
//                   order, so the forward is deterministic; the mean comes back to the host.
//   backwards       pointwise: one thread per element; row losses: one warp per row (they need
//                   row sums first, then every element of the row).
// Every formula is the CPU one (cpu/loss.cpp's structs, in double), so both backends agree to
// rounding. Only the summation order differs.
#include "cuda/loss.h"

#include <cmath>
#include <climits>
#include <cstddef>

#include "core/errors.h"
#include "cuda/compat.h"
#include "cuda/reduce.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;  // one warp per row
constexpr float kEpsF = 1e-7f;                 // keras.backend.epsilon()
constexpr float kLo = kEpsF, kHi = 1.0f - kEpsF;
constexpr double kEps = kEpsF;                 // the float32 epsilon, in double (as cpu/loss.cpp)

int blocks_for(int64_t n) { return grid_stride_blocks(n, kThreads); }
int row_blocks(int64_t N) { return static_cast<int>((N + kRowsPerBlock - 1) / kRowsPerBlock); }

#define NK_FOR_EACH_ELEMENT(i, n)                                                   \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);         \
       i += (int64_t)blockDim.x * gridDim.x)

// Row n of this warp and the lane; a warp past the last row returns as a whole (the shuffles
// below then only involve full, live warps).
#define NK_ROW_OR_RETURN(n, lane, N)                                                             \
  const int lane = threadIdx.x % 32;                                                             \
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;         \
  if (n >= (N)) return;

__device__ __forceinline__ double clip(double q) {
  return q < static_cast<double>(kLo) ? static_cast<double>(kLo) : (q > static_cast<double>(kHi) ? kHi : q);
}
__device__ __forceinline__ double sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }
__device__ __forceinline__ double dmax(double a, double b) { return a > b ? a : b; }
__device__ __forceinline__ double dmin(double a, double b) { return a < b ? a : b; }
__device__ __forceinline__ double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + exp(-z));
  const double e = exp(z);  // exp(-z) would overflow for very negative z
  return e / (1.0 + e);
}

// ---- the final mean: one block, fixed order --------------------------------------------------

__global__ void mean_rows_kernel(double* __restrict__ out, const double* __restrict__ rows, int64_t N) {
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) s += rows[i];
  s = block_sum(s);
  if (threadIdx.x == 0) out[0] = s / static_cast<double>(N);
}

// Scratch of N row losses plus the result; mean() reduces and copies the mean to the host.
struct RowLosses {
  Buffer buf;
  int64_t N;
  explicit RowLosses(int64_t n) : buf(sizeof(double) * (n + 1)), N(n) {}
  double* rows() const { return buf.as<double>(); }
  float mean() const {
    double* out = rows() + N;
    NK_LAUNCH(mean_rows_kernel, 1, kThreads, 0, out, rows(), N);
    NK_CHECK_LAUNCH("mean_rows_kernel");
    double host = 0.0;
    memcpy_d2h(&host, out, sizeof(double));
    return static_cast<float>(host);
  }
};

// ---- pointwise losses: L_n = mean_d f(y_d, p_d) (or sum_d), d = f'(y, p) / (N D) ---------------
// value = f and slope = df/dp in double: cpu/loss.cpp's structs on the device.

struct SquaredError {
  __device__ double value(double y, double p) const { return (p - y) * (p - y); }
  __device__ double slope(double y, double p) const { return 2.0 * (p - y); }
};
struct AbsoluteError {
  __device__ double value(double y, double p) const { return fabs(p - y); }
  __device__ double slope(double y, double p) const { return sign(p - y); }
};
// 100 |y - p| / max(|y|, eps)
struct AbsolutePercentageError {
  __device__ double value(double y, double p) const { return 100.0 * fabs(p - y) / dmax(fabs(y), kEps); }
  __device__ double slope(double y, double p) const { return 100.0 * sign(p - y) / dmax(fabs(y), kEps); }
};
// (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2; flat in p below eps
struct SquaredLogarithmicError {
  __device__ static double log1(double x) { return log1p(dmax(x, kEps)); }
  __device__ double value(double y, double p) const { return (log1(p) - log1(y)) * (log1(p) - log1(y)); }
  __device__ double slope(double y, double p) const { return p < kEps ? 0.0 : 2.0 * (log1(p) - log1(y)) / (p + 1.0); }
};
// 0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2 (e = p - y)
struct Huber {
  double delta;
  __device__ double value(double y, double p) const {
    const double e = fabs(p - y);
    return e <= delta ? 0.5 * e * e : delta * e - 0.5 * delta * delta;
  }
  __device__ double slope(double y, double p) const {
    const double e = p - y;
    return fabs(e) <= delta ? e : delta * sign(e);
  }
};
// log cosh(e) = e + softplus(-2e) - log 2 (never overflows); slope tanh(e)
struct LogCosh {
  __device__ double value(double y, double p) const {
    const double x = -2.0 * (p - y);
    return (p - y) + dmax(x, 0.0) + log1p(exp(-fabs(x))) - log(2.0);
  }
  __device__ double slope(double y, double p) const { return tanh(p - y); }
};
// y' log(y'/p') with y', p' clipped to [eps, 1]; summed over d
struct KLDivergence {
  __device__ static double clip01(double x) { return dmin(dmax(x, kEps), 1.0); }
  __device__ double value(double y, double p) const { return clip01(y) * log(clip01(y) / clip01(p)); }
  __device__ double slope(double y, double p) const { return (p < kEps || p > 1.0) ? 0.0 : -clip01(y) / p; }
};
// p - y log(p + eps)
struct Poisson {
  __device__ double value(double y, double p) const { return p - y * log(p + kEps); }
  __device__ double slope(double y, double p) const { return 1.0 - y / (p + kEps); }
};
struct BinaryCrossentropy {
  bool from_logits;
  double smoothing;  // y -> y (1 - smoothing) + smoothing / 2
  __device__ double value(double y, double p) const {
    y = y * (1.0 - smoothing) + 0.5 * smoothing;
    // logits: max(z,0) - z y + log(1 + exp(-|z|)), which never exponentiates a positive number
    if (from_logits) return dmax(p, 0.0) - p * y + log1p(exp(-fabs(p)));
    const double q = clip(p);
    return -(y * log(q) + (1.0 - y) * log(1.0 - q));
  }
  __device__ double slope(double y, double p) const {
    y = y * (1.0 - smoothing) + 0.5 * smoothing;
    if (from_logits) return sigmoid(p) - y;
    if (p < kLo || p > kHi) return 0.0;  // clip has zero slope outside [lo, hi]
    return -y / p + (1.0 - y) / (1.0 - p);
  }
};
// max(1 - y p, 0) (squared for squared_hinge); y -> 2y - 1 when every label is 0 or 1
struct Hinge {
  bool binary, squared;
  __device__ double margin(double y, double p) const { return dmax(1.0 - (binary ? 2.0 * y - 1.0 : y) * p, 0.0); }
  __device__ double value(double y, double p) const {
    const double m = margin(y, p);
    return squared ? m * m : m;
  }
  __device__ double slope(double y, double p) const {
    const double m = margin(y, p), yy = binary ? 2.0 * y - 1.0 : y;
    return m > 0.0 ? -yy * (squared ? 2.0 * m : 1.0) : 0.0;
  }
};

template <typename F>
__global__ void pointwise_forward_kernel(double* __restrict__ rows, float* __restrict__ per_sample,
                                         const float* __restrict__ y, const float* __restrict__ p, int64_t N,
                                         int64_t D, F f, bool sum_over_d) {
  NK_ROW_OR_RETURN(n, lane, N);
  double s = 0.0;
  for (int64_t d = lane; d < D; d += 32) s += f.value(y[n * D + d], p[n * D + d]);
  s = warp_sum(s);
  if (!sum_over_d) s /= static_cast<double>(D);
  if (lane == 0) {
    rows[n] = s;
    if (per_sample) per_sample[n] = static_cast<float>(s);
  }
}

template <typename F>
__global__ void pointwise_backward_kernel(float* __restrict__ dpred, const float* __restrict__ y,
                                          const float* __restrict__ p, int64_t total, F f, double scale) {
  NK_FOR_EACH_ELEMENT(i, total) dpred[i] = static_cast<float>(f.slope(y[i], p[i]) * scale);
}

template <typename F>
float pointwise_forward(float* per_sample, const float* y, const float* p, int64_t N, int64_t D, F f,
                        bool sum_over_d = false) {
  RowLosses rl(N);
  NK_LAUNCH(pointwise_forward_kernel<F>, row_blocks(N), kThreads, 0, rl.rows(), per_sample, y, p, N, D, f,
            sum_over_d);
  NK_CHECK_LAUNCH("pointwise_forward_kernel");
  return rl.mean();
}

template <typename F>
void pointwise_backward(float* dpred, const float* y, const float* p, int64_t N, int64_t D, F f,
                        bool sum_over_d = false) {
  const double scale = 1.0 / (static_cast<double>(N) * (sum_over_d ? 1 : D));
  NK_LAUNCH(pointwise_backward_kernel<F>, blocks_for(N * D), kThreads, 0, dpred, y, p, N * D, f, scale);
  NK_CHECK_LAUNCH("pointwise_backward_kernel");
}

// Keras maps hinge labels to -1 / 1 only when EVERY label is 0 or 1: *flag = 0 if one is not.
__global__ void labels_are_binary_kernel(int* __restrict__ flag, const float* __restrict__ y, int64_t total) {
  NK_FOR_EACH_ELEMENT(i, total) {
    if (y[i] != 0.0f && y[i] != 1.0f) atomicExch(flag, 0);
  }
}

bool labels_are_binary(const float* y, int64_t total) {
  Buffer flag(sizeof(int));
  int host = 1;
  memcpy_h2d(flag.get(), &host, sizeof(int));
  NK_LAUNCH(labels_are_binary_kernel, blocks_for(total), kThreads, 0, flag.as<int>(), y, total);
  NK_CHECK_LAUNCH("labels_are_binary_kernel");
  memcpy_d2h(&host, flag.get(), sizeof(int));
  return host != 0;
}

// ---- categorical cross-entropy: one warp per row ----------------------------------------------
// Label smoothing: y_c -> keep y_c + add (keep = 1 - ls, add = ls / C).

// log sum_c exp(z_c) of a row, shifted by its max so exp never overflows (all lanes get it)
__device__ __forceinline__ double row_log_sum_exp(const float* z, int64_t C, int lane) {
  float m = -INFINITY;
  for (int64_t c = lane; c < C; c += 32) m = fmaxf(m, z[c]);
  m = warp_max(m);
  double s = 0.0;
  for (int64_t c = lane; c < C; c += 32) s += exp(static_cast<double>(z[c]) - m);
  return m + log(warp_sum(s));
}

__device__ __forceinline__ double row_sum(const float* x, int64_t D, int lane) {
  double s = 0.0;
  for (int64_t d = lane; d < D; d += 32) s += x[d];
  return warp_sum(s);
}

__global__ void categorical_crossentropy_forward_kernel(double* __restrict__ rows, float* __restrict__ per_sample,
                                                        const float* __restrict__ y_true,
                                                        const float* __restrict__ y_pred, int64_t N, int64_t C,
                                                        bool from_logits, double keep, double add) {
  NK_ROW_OR_RETURN(n, lane, N);
  const float *y = y_true + n * C, *p = y_pred + n * C;
  double s = 0.0;
  if (from_logits) {
    const double lse = row_log_sum_exp(p, C, lane);  // -log softmax(z)_c = lse - z_c
    for (int64_t c = lane; c < C; c += 32) s += (keep * y[c] + add) * (lse - p[c]);
  } else {
    const double inv_sum = 1.0 / row_sum(p, C, lane);  // Keras renormalises p to sum to 1
    for (int64_t c = lane; c < C; c += 32) s -= (keep * y[c] + add) * log(clip(p[c] * inv_sum));
  }
  s = warp_sum(s);
  if (lane == 0) {
    rows[n] = s;
    if (per_sample) per_sample[n] = static_cast<float>(s);
  }
}

__global__ void categorical_crossentropy_backward_kernel(float* __restrict__ dpred, const float* __restrict__ y_true,
                                                         const float* __restrict__ y_pred, int64_t N, int64_t C,
                                                         bool from_logits, double keep, double add) {
  NK_ROW_OR_RETURN(n, lane, N);
  const float *y = y_true + n * C, *p = y_pred + n * C;
  float* dp = dpred + n * C;
  const double inv_n = 1.0 / static_cast<double>(N);
  if (from_logits) {  // d = (softmax(z) sum_c y_c - y) / N
    const double lse = row_log_sum_exp(p, C, lane);
    const double sum_y = keep * row_sum(y, C, lane) + add * static_cast<double>(C);
    for (int64_t c = lane; c < C; c += 32)
      dp[c] = static_cast<float>((exp(p[c] - lse) * sum_y - (keep * y[c] + add)) * inv_n);
    return;
  }
  // q = p/s; dL/dq_c = g_c = -y_c/q_c (0 where clipped); dq_c/dp_k = (delta_ck - q_c)/s
  const double inv_sum = 1.0 / row_sum(p, C, lane);
  double gq = 0.0;  // sum_c g_c q_c = -sum of y_c over the unclipped c
  for (int64_t c = lane; c < C; c += 32) {
    const double q = p[c] * inv_sum;
    if (q >= kLo && q <= kHi) gq -= keep * y[c] + add;
  }
  gq = warp_sum(gq);
  for (int64_t c = lane; c < C; c += 32) {
    const double q = p[c] * inv_sum;
    const double g = (q >= kLo && q <= kHi) ? -(keep * y[c] + add) / q : 0.0;
    dp[c] = static_cast<float>((g - gq) * inv_sum * inv_n);
  }
}

// ---- sparse categorical cross-entropy: the categorical loss with y = onehot(label) -------------

template <typename L>
__global__ void first_bad_label_kernel(int* __restrict__ first, const L* __restrict__ labels, int64_t N, int64_t C) {
  NK_FOR_EACH_ELEMENT(i, N) {
    if (labels[i] < 0 || static_cast<int64_t>(labels[i]) >= C) atomicMin(first, static_cast<int>(i));
  }
}

template <typename L>
__global__ void sparse_categorical_crossentropy_forward_kernel(double* __restrict__ rows,
                                                               float* __restrict__ per_sample,
                                                               const L* __restrict__ labels,
                                                               const float* __restrict__ y_pred, int64_t N,
                                                               int64_t C, bool from_logits) {
  NK_ROW_OR_RETURN(n, lane, N);
  const float* p = y_pred + n * C;
  const int64_t k = static_cast<int64_t>(labels[n]);
  const double s = from_logits ? row_log_sum_exp(p, C, lane) - p[k] : -log(clip(p[k] / row_sum(p, C, lane)));
  if (lane == 0) {
    rows[n] = s;
    if (per_sample) per_sample[n] = static_cast<float>(s);
  }
}

template <typename L>
__global__ void sparse_categorical_crossentropy_backward_kernel(float* __restrict__ dpred,
                                                                const L* __restrict__ labels,
                                                                const float* __restrict__ y_pred, int64_t N,
                                                                int64_t C, bool from_logits) {
  NK_ROW_OR_RETURN(n, lane, N);
  const float* p = y_pred + n * C;
  float* dp = dpred + n * C;
  const int64_t k = static_cast<int64_t>(labels[n]);
  const double inv_n = 1.0 / static_cast<double>(N);
  if (from_logits) {
    const double lse = row_log_sum_exp(p, C, lane);
    for (int64_t c = lane; c < C; c += 32)
      dp[c] = static_cast<float>((exp(p[c] - lse) - (c == k ? 1.0 : 0.0)) * inv_n);
    return;
  }
  // d_c = (1 - [c == k] / q_k) / s, 0 for the whole row if q_k was clipped
  const double inv_sum = 1.0 / row_sum(p, C, lane), q = p[k] * inv_sum;
  const bool clipped = q < kLo || q > kHi;
  for (int64_t c = lane; c < C; c += 32)
    dp[c] = clipped ? 0.0f : static_cast<float>((1.0 - (c == k ? 1.0 / q : 0.0)) * inv_sum * inv_n);
}

// ---- cosine similarity: u = y min(1/|y|, 1/eps), v likewise, L_n = -u.v -----------------------

__device__ __forceinline__ double inv_norm(double sum_sq) {
  const double r = 1.0 / sqrt(sum_sq);  // inf for a zero vector: the clamp keeps it zero
  return r < 1.0 / kEps ? r : 1.0 / kEps;
}

struct Dots {
  double yy, pp, yp;
};
__device__ __forceinline__ Dots row_dots(const float* y, const float* p, int64_t D, int lane) {
  Dots s{0.0, 0.0, 0.0};
  for (int64_t d = lane; d < D; d += 32) {
    s.yy += static_cast<double>(y[d]) * y[d];
    s.pp += static_cast<double>(p[d]) * p[d];
    s.yp += static_cast<double>(y[d]) * p[d];
  }
  return {warp_sum(s.yy), warp_sum(s.pp), warp_sum(s.yp)};
}

__global__ void cosine_similarity_forward_kernel(double* __restrict__ rows, float* __restrict__ per_sample,
                                                 const float* __restrict__ y_true, const float* __restrict__ y_pred,
                                                 int64_t N, int64_t D) {
  NK_ROW_OR_RETURN(n, lane, N);
  const Dots s = row_dots(y_true + n * D, y_pred + n * D, D, lane);
  const double l = -s.yp * inv_norm(s.yy) * inv_norm(s.pp);
  if (lane == 0) {
    rows[n] = l;
    if (per_sample) per_sample[n] = static_cast<float>(l);
  }
}

// d = -(|p|^-1)(u - (u.p)|p|^-2 p) / N   (-u / (eps N) if |p| < eps: the clamp makes |p|^-1 constant)
__global__ void cosine_similarity_backward_kernel(float* __restrict__ dpred, const float* __restrict__ y_true,
                                                  const float* __restrict__ y_pred, int64_t N, int64_t D) {
  NK_ROW_OR_RETURN(n, lane, N);
  const float *y = y_true + n * D, *p = y_pred + n * D;
  const Dots s = row_dots(y, p, D, lane);
  const double iy = inv_norm(s.yy), ip = inv_norm(s.pp), inv_n = 1.0 / static_cast<double>(N);
  const bool clamped = !(1.0 / sqrt(s.pp) < 1.0 / kEps);
  const double radial = clamped ? 0.0 : s.yp * ip * ip;
  for (int64_t d = lane; d < D; d += 32)
    dpred[n * D + d] = static_cast<float>(-iy * ip * (y[d] - radial * p[d]) * inv_n);
}

// ---- categorical hinge: pos = sum_c y_c p_c, neg = max_c (1 - y_c) p_c at c = k ----------------
// L_n = max(neg - pos + 1, 0); d_c = ([c == k](1 - y_c) - y_c) / N where L_n > 0 (ties: first max)

struct ArgMax {
  double value;
  int index;  // INT_MAX: nothing larger than -inf seen
};
__device__ __forceinline__ ArgMax warp_argmax_first(ArgMax a) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const double v = __shfl_xor_sync(kFullWarp, a.value, offset);
    const int i = __shfl_xor_sync(kFullWarp, a.index, offset);
    if (v > a.value || (v == a.value && i < a.index)) a = {v, i};
  }
  return a;
}

__device__ __forceinline__ void categorical_hinge_row(const float* y, const float* p, int64_t C, int lane,
                                                      double* pos, double* neg, int64_t* k) {
  double s = 0.0;
  ArgMax best{-INFINITY, INT_MAX};
  for (int64_t c = lane; c < C; c += 32) {
    s += static_cast<double>(y[c]) * p[c];
    const double t = (1.0 - y[c]) * p[c];
    if (t > best.value) best = {t, static_cast<int>(c)};  // strict: each lane keeps its first max
  }
  best = warp_argmax_first(best);
  *pos = warp_sum(s);
  *neg = best.value;
  *k = best.index == INT_MAX ? 0 : best.index;  // as the CPU loop: no maximum found -> index 0
}

__global__ void categorical_hinge_forward_kernel(double* __restrict__ rows, float* __restrict__ per_sample,
                                                 const float* __restrict__ y_true, const float* __restrict__ y_pred,
                                                 int64_t N, int64_t C) {
  NK_ROW_OR_RETURN(n, lane, N);
  double pos, neg;
  int64_t k;
  categorical_hinge_row(y_true + n * C, y_pred + n * C, C, lane, &pos, &neg, &k);
  const double l = dmax(neg - pos + 1.0, 0.0);
  if (lane == 0) {
    rows[n] = l;
    if (per_sample) per_sample[n] = static_cast<float>(l);
  }
}

__global__ void categorical_hinge_backward_kernel(float* __restrict__ dpred, const float* __restrict__ y_true,
                                                  const float* __restrict__ y_pred, int64_t N, int64_t C) {
  NK_ROW_OR_RETURN(n, lane, N);
  const float* y = y_true + n * C;
  double pos, neg;
  int64_t k;
  categorical_hinge_row(y, y_pred + n * C, C, lane, &pos, &neg, &k);
  const bool active = neg - pos + 1.0 > 0.0;
  const double inv_n = 1.0 / static_cast<double>(N);
  for (int64_t c = lane; c < C; c += 32)
    dpred[n * C + c] = active ? static_cast<float>(((c == k ? 1.0 - y[c] : 0.0) - y[c]) * inv_n) : 0.0f;
}

// ---- fused activation + loss backward ---------------------------------------------------------

// d = (probs sum_c y'_c - y') / N, y' smoothed (sum_c y'_c = 1 for one-hot or smoothed labels)
__global__ void softmax_cross_entropy_backward_kernel(float* __restrict__ dlogits, const float* __restrict__ y_true,
                                                      const float* __restrict__ probs, int64_t N, int64_t C,
                                                      double keep, double add) {
  NK_ROW_OR_RETURN(n, lane, N);
  const float *y = y_true + n * C, *p = probs + n * C;
  const double sum_y = keep * row_sum(y, C, lane) + add * static_cast<double>(C), inv_n = 1.0 / static_cast<double>(N);
  for (int64_t c = lane; c < C; c += 32)
    dlogits[n * C + c] = static_cast<float>((p[c] * sum_y - (keep * y[c] + add)) * inv_n);
}

// d = (probs - onehot(label)) / N: one thread per element
template <typename L>
__global__ void sparse_softmax_cross_entropy_backward_kernel(float* __restrict__ dlogits,
                                                             const L* __restrict__ labels,
                                                             const float* __restrict__ probs, int64_t N, int64_t C) {
  const double inv_n = 1.0 / static_cast<double>(N);
  NK_FOR_EACH_ELEMENT(i, N * C) {
    const int64_t k = static_cast<int64_t>(labels[i / C]);
    dlogits[i] = static_cast<float>((probs[i] - (i % C == k ? 1.0 : 0.0)) * inv_n);
  }
}

// d = (probs - y') / (N D), y' = y (1 - ls) + ls / 2
__global__ void sigmoid_binary_crossentropy_backward_kernel(float* __restrict__ dlogits,
                                                            const float* __restrict__ y_true,
                                                            const float* __restrict__ probs, int64_t total,
                                                            double keep, double add, double scale) {
  NK_FOR_EACH_ELEMENT(i, total) dlogits[i] = static_cast<float>((probs[i] - (keep * y_true[i] + add)) * scale);
}

#undef NK_ROW_OR_RETURN
#undef NK_FOR_EACH_ELEMENT

// Row-loss forward: launch kernel with (rows, per_sample, args...), then the deterministic mean.
template <typename Kernel, typename... Args>
float row_forward(const char* name, Kernel kernel, float* per_sample, int64_t N, Args... args) {
  RowLosses rl(N);
  NK_LAUNCH(kernel, row_blocks(N), kThreads, 0, rl.rows(), per_sample, args...);
  NK_CHECK_LAUNCH(name);
  return rl.mean();
}

}  // namespace

// ---- host entry points ----------------------------------------------------------------------

#define NK_POINTWISE_LOSS(name, make, sum_over_d)                                                       \
  float name##_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D) { \
    return pointwise_forward(per_sample, y_true, y_pred, N, D, make, sum_over_d);                       \
  }                                                                                                     \
  void name##_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D) {   \
    pointwise_backward(dpred, y_true, y_pred, N, D, make, sum_over_d);                                  \
  }
NK_POINTWISE_LOSS(mean_squared_error, SquaredError{}, false)
NK_POINTWISE_LOSS(mean_absolute_error, AbsoluteError{}, false)
NK_POINTWISE_LOSS(mean_absolute_percentage_error, AbsolutePercentageError{}, false)
NK_POINTWISE_LOSS(mean_squared_logarithmic_error, SquaredLogarithmicError{}, false)
NK_POINTWISE_LOSS(log_cosh, LogCosh{}, false)
NK_POINTWISE_LOSS(kl_divergence, KLDivergence{}, true)
NK_POINTWISE_LOSS(poisson, Poisson{}, false)
NK_POINTWISE_LOSS(hinge, (Hinge{labels_are_binary(y_true, N * D), false}), false)
NK_POINTWISE_LOSS(squared_hinge, (Hinge{labels_are_binary(y_true, N * D), true}), false)
#undef NK_POINTWISE_LOSS

float huber_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D, float delta) {
  return pointwise_forward(per_sample, y_true, y_pred, N, D, Huber{delta});
}
void huber_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D, float delta) {
  pointwise_backward(dpred, y_true, y_pred, N, D, Huber{delta});
}

float binary_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                                  bool from_logits, float label_smoothing) {
  return pointwise_forward(per_sample, y_true, y_pred, N, D, BinaryCrossentropy{from_logits, label_smoothing});
}
void binary_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                                  bool from_logits, float label_smoothing) {
  pointwise_backward(dpred, y_true, y_pred, N, D, BinaryCrossentropy{from_logits, label_smoothing});
}

float categorical_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                                       int64_t C, bool from_logits, float label_smoothing) {
  const double keep = 1.0 - label_smoothing, add = static_cast<double>(label_smoothing) / C;
  return row_forward("categorical_crossentropy_forward_kernel", categorical_crossentropy_forward_kernel, per_sample,
                     N, y_true, y_pred, N, C, from_logits, keep, add);
}
void categorical_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t C,
                                       bool from_logits, float label_smoothing) {
  const double keep = 1.0 - label_smoothing, add = static_cast<double>(label_smoothing) / C;
  NK_LAUNCH(categorical_crossentropy_backward_kernel, row_blocks(N), kThreads, 0, dpred, y_true, y_pred, N, C,
            from_logits, keep, add);
  NK_CHECK_LAUNCH("categorical_crossentropy_backward_kernel");
}

template <typename L>
int64_t first_bad_label(const L* labels, int64_t N, int64_t C) {
  NK_CHECK(N < INT_MAX, "sparse labels: at most ", INT_MAX - 1, " samples are supported on cuda, got ", N);
  Buffer first(sizeof(int));
  int host = INT_MAX;
  memcpy_h2d(first.get(), &host, sizeof(int));
  NK_LAUNCH(first_bad_label_kernel<L>, blocks_for(N), kThreads, 0, first.as<int>(), labels, N, C);
  NK_CHECK_LAUNCH("first_bad_label_kernel");
  memcpy_d2h(&host, first.get(), sizeof(int));
  return host == INT_MAX ? -1 : host;
}

template <typename L>
float sparse_categorical_crossentropy_forward(float* per_sample, const L* labels, const float* y_pred, int64_t N,
                                              int64_t C, bool from_logits) {
  return row_forward("sparse_categorical_crossentropy_forward_kernel",
                     sparse_categorical_crossentropy_forward_kernel<L>, per_sample, N, labels, y_pred, N, C,
                     from_logits);
}

template <typename L>
void sparse_categorical_crossentropy_backward(float* dpred, const L* labels, const float* y_pred, int64_t N,
                                              int64_t C, bool from_logits) {
  NK_LAUNCH(sparse_categorical_crossentropy_backward_kernel<L>, row_blocks(N), kThreads, 0, dpred, labels, y_pred,
            N, C, from_logits);
  NK_CHECK_LAUNCH("sparse_categorical_crossentropy_backward_kernel");
}

float cosine_similarity_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D) {
  return row_forward("cosine_similarity_forward_kernel", cosine_similarity_forward_kernel, per_sample, N, y_true,
                     y_pred, N, D);
}
void cosine_similarity_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D) {
  NK_LAUNCH(cosine_similarity_backward_kernel, row_blocks(N), kThreads, 0, dpred, y_true, y_pred, N, D);
  NK_CHECK_LAUNCH("cosine_similarity_backward_kernel");
}

float categorical_hinge_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t C) {
  return row_forward("categorical_hinge_forward_kernel", categorical_hinge_forward_kernel, per_sample, N, y_true,
                     y_pred, N, C);
}
void categorical_hinge_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t C) {
  NK_LAUNCH(categorical_hinge_backward_kernel, row_blocks(N), kThreads, 0, dpred, y_true, y_pred, N, C);
  NK_CHECK_LAUNCH("categorical_hinge_backward_kernel");
}

void softmax_cross_entropy_backward(float* dlogits, const float* y_true, const float* probs, int64_t N, int64_t C,
                                    float label_smoothing) {
  const double keep = 1.0 - label_smoothing, add = static_cast<double>(label_smoothing) / C;
  NK_LAUNCH(softmax_cross_entropy_backward_kernel, row_blocks(N), kThreads, 0, dlogits, y_true, probs, N, C, keep,
            add);
  NK_CHECK_LAUNCH("softmax_cross_entropy_backward_kernel");
}

template <typename L>
void sparse_softmax_cross_entropy_backward(float* dlogits, const L* labels, const float* probs, int64_t N, int64_t C) {
  NK_LAUNCH(sparse_softmax_cross_entropy_backward_kernel<L>, blocks_for(N * C), kThreads, 0, dlogits, labels, probs,
            N, C);
  NK_CHECK_LAUNCH("sparse_softmax_cross_entropy_backward_kernel");
}

void sigmoid_binary_crossentropy_backward(float* dlogits, const float* y_true, const float* probs, int64_t N,
                                          int64_t D, float label_smoothing) {
  const double keep = 1.0 - label_smoothing, add = 0.5 * label_smoothing;
  const double scale = 1.0 / (static_cast<double>(N) * D);
  NK_LAUNCH(sigmoid_binary_crossentropy_backward_kernel, blocks_for(N * D), kThreads, 0, dlogits, y_true, probs,
            N * D, keep, add, scale);
  NK_CHECK_LAUNCH("sigmoid_binary_crossentropy_backward_kernel");
}

// Label types the bindings accept.
#define NK_LOSS_INSTANTIATE(L)                                                                              \
  template int64_t first_bad_label<L>(const L*, int64_t, int64_t);                                          \
  template float sparse_categorical_crossentropy_forward<L>(float*, const L*, const float*, int64_t, int64_t, \
                                                            bool);                                          \
  template void sparse_categorical_crossentropy_backward<L>(float*, const L*, const float*, int64_t, int64_t, \
                                                            bool);                                          \
  template void sparse_softmax_cross_entropy_backward<L>(float*, const L*, const float*, int64_t, int64_t);
NK_LOSS_INSTANTIATE(int32_t)
NK_LOSS_INSTANTIATE(int64_t)
#undef NK_LOSS_INSTANTIATE

}  // namespace nk::cuda
