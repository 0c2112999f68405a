// loss.cpp - Keras loss functions, forward and backward side by side.
//
// Size letters: N samples (leading axes flattened), D values per sample (last axis), C classes.
// y = y_true, p = y_pred, z = logits, eps = 1e-7 (keras.backend.epsilon()); lo = eps and
// hi = 1 - eps are rounded to float32 as Keras's float32 clip does. Per-sample loss L_n, then
// loss = (1/N) sum_n L_n. Sums run in double; backward writes dpred = d loss / d p (overwrite).
//
// Pointwise losses, L_n = mean_d f(y_d, p_d) and d = f'(y, p) / (N D) (one struct each below):
//   mean_squared_error              f = (y - p)^2                          f' = 2 (p - y)
//   mean_absolute_error             f = |y - p|                            f' = sign(p - y)
//   mean_absolute_percentage_error  f = 100 |y - p| / max(|y|, eps)
//   mean_squared_logarithmic_error  f = (log(max(p,eps) + 1) - log(max(y,eps) + 1))^2
//   huber(delta)                    f = e^2/2 if |e| <= delta else delta |e| - delta^2/2, e = p - y
//   log_cosh                        f = log cosh(p - y)                    f' = tanh(p - y)
//   kl_divergence                   f = y' log(y'/p'), y', p' clipped to [eps, 1]; SUM over d
//   poisson                         f = p - y log(p + eps)
//   hinge / squared_hinge           f = max(1 - y p, 0) (squared); y -> 2y - 1 if every y is 0 or 1
//   binary_crossentropy             f = -(y log q + (1 - y) log(1 - q)), q = clip(p, lo, hi)
//                                   f' = -y/q + (1-y)/(1-q), 0 where p was clipped
//     from_logits                   f = max(z,0) - z y + log1p(exp(-|z|))  f' = sigmoid(z) - y
//     label_smoothing ls            y -> y (1 - ls) + ls / 2 first
//
// Row losses:
//   categorical_crossentropy  s = sum_c p, q = clip(p / s, lo, hi), L_n = -sum_c y log q
//                             g_c = -y_c / q_c (0 where clipped): d_k = (g_k - sum_c g_c q_c) / (s N)
//     from_logits             L_n = sum_c y_c (lse - z_c), lse = log sum_c exp z_c
//                             d = (softmax(z) sum_c y_c - y) / N
//     label_smoothing ls      y_c -> y_c (1 - ls) + ls / C first (also in the fused backward)
//   sparse_categorical_...    the categorical loss with y = onehot(label)
//                             (Keras's JAX/NumPy/torch form; TF clips before normalising, which
//                             differs only when the rows of p do not sum to 1)
//   categorical_hinge         L_n = max(max_c (1 - y_c) p_c - sum_c y_c p_c + 1, 0)
//   cosine_similarity         u = y * min(1/|y|, 1/eps), v = p * min(1/|p|, 1/eps), L_n = -u.v
//                             d = -(|p|^-1)(u - (u.p) |p|^-2 p) / N   (-u / (eps N) if |p| < eps)
//
// Fused backward for a softmax / sigmoid output layer, gradient w.r.t. the logits:
//   softmax_cross_entropy_backward         d = (probs sum_c y_c - y) / N   (one-hot: (probs - y) / N)
//   sparse_softmax_cross_entropy_backward  d = (probs - onehot(label)) / N
//   sigmoid_binary_crossentropy_backward   d = (probs - y) / (N D)
//
// Variants: one plain loop per loss (losses are small next to the layers that produce y_pred);
// rows are split across threads when N*D is large.
#include "cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu_features.h"
#include "core/parallel.h"

namespace nk {

namespace {

const float kLo = kLossEpsilon;         // clip bounds in float32, as Keras clips float32 tensors
const float kHi = 1.0f - kLossEpsilon;  // = 0.99999988f
const double kEps = kLossEpsilon;       // the float32 epsilon Keras compares with, in double

bool big(int64_t N, int64_t D) { return N * D >= kParallelGrain; }

double clip(double q) { return std::min(std::max(q, double{kLo}), double{kHi}); }

// (1/N) sum_n row_loss(n), with row_loss returning a double; the per-sample losses also go to
// per_sample (N,) unless it is null. Large inputs split the rows into one contiguous block per
// thread; the block sums are added in thread order, so the result does not depend on timing.
template <typename RowLoss>
float mean_over_rows(float* per_sample, int64_t N, int64_t D, RowLoss row_loss) {
  auto block_sum = [&](int64_t b, int64_t e) {
    double s = 0.0;
    for (int64_t n = b; n < e; ++n) {
      double l = row_loss(n);
      if (per_sample) per_sample[n] = static_cast<float>(l);
      s += l;
    }
    return s;
  };
  double total = 0.0;
  if (!big(N, D)) {
    total = block_sum(0, N);
  } else {
    std::vector<double> partial(static_cast<size_t>(num_threads()), 0.0);
#pragma omp parallel num_threads(static_cast<int>(partial.size()))
    {
      int64_t b, e;
      thread_range(N, 1, &b, &e);
      partial[static_cast<size_t>(thread_id())] = block_sum(b, e);
    }
    for (double s : partial) total += s;
  }
  return static_cast<float>(total / static_cast<double>(N));
}

// Run row_grad(n) for every row, split over threads when large.
template <typename RowGrad>
void for_rows(int64_t N, int64_t D, RowGrad row_grad) {
#pragma omp parallel for schedule(static) if (big(N, D))
  for (int64_t n = 0; n < N; ++n) row_grad(n);
}

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);  // exp(-z) would overflow for very negative z
  return e / (1.0 + e);
}

// log sum_c exp(z_c), shifted by the row max so exp never overflows.
double log_sum_exp(const float* z, int64_t C) {
  float m = z[0];
  for (int64_t c = 1; c < C; ++c) m = std::max(m, z[c]);
  double s = 0.0;
  for (int64_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(z[c]) - m);
  return m + std::log(s);
}

double row_sum(const float* x, int64_t D) {
  double s = 0.0;
  for (int64_t d = 0; d < D; ++d) s += x[d];
  return s;
}

}  // namespace

// ---- pointwise losses: L_n = mean_d f(y_d, p_d) (or sum_d), d = f'(y, p) / (N D) -----------
// Each loss is a small struct: value(y, p) = f and slope(y, p) = df/dp, in double.

namespace {

template <typename F>
float pointwise_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                        int64_t D, F f, bool sum_over_d = false) {
  return mean_over_rows(per_sample, N, D, [=](int64_t n) {
    double s = 0.0;
    for (int64_t i = n * D; i < (n + 1) * D; ++i) s += f.value(y_true[i], y_pred[i]);
    return sum_over_d ? s : s / D;
  });
}

template <typename F>
void pointwise_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N,
                        int64_t D, F f, bool sum_over_d = false) {
  const double scale = 1.0 / (static_cast<double>(N) * (sum_over_d ? 1 : D));
  for_rows(N, D, [=](int64_t n) {
    for (int64_t i = n * D; i < (n + 1) * D; ++i)
      dpred[i] = static_cast<float>(f.slope(y_true[i], y_pred[i]) * scale);
  });
}

double sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }  // sign(0) = 0, as TF's abs'

struct SquaredError {
  double value(double y, double p) const { return (p - y) * (p - y); }
  double slope(double y, double p) const { return 2.0 * (p - y); }
};

struct AbsoluteError {
  double value(double y, double p) const { return std::fabs(p - y); }
  double slope(double y, double p) const { return sign(p - y); }
};

// 100 |y - p| / max(|y|, eps)
struct AbsolutePercentageError {
  double value(double y, double p) const { return 100.0 * std::fabs(p - y) / std::max(std::fabs(y), kEps); }
  double slope(double y, double p) const { return 100.0 * sign(p - y) / std::max(std::fabs(y), kEps); }
};

// (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2; flat in p below eps
struct SquaredLogarithmicError {
  static double log1(double x) { return std::log1p(std::max(x, kEps)); }
  double value(double y, double p) const { return (log1(p) - log1(y)) * (log1(p) - log1(y)); }
  double slope(double y, double p) const {
    return p < kEps ? 0.0 : 2.0 * (log1(p) - log1(y)) / (p + 1.0);
  }
};

// 0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2 (e = p - y)
struct Huber {
  double delta;
  double value(double y, double p) const {
    double e = std::fabs(p - y);
    return e <= delta ? 0.5 * e * e : delta * e - 0.5 * delta * delta;
  }
  double slope(double y, double p) const {
    double e = p - y;
    return std::fabs(e) <= delta ? e : delta * sign(e);
  }
};

// log cosh(e) = e + softplus(-2e) - log 2, which never overflows; slope tanh(e)
struct LogCosh {
  double value(double y, double p) const {
    double x = -2.0 * (p - y);
    return (p - y) + std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))) - std::log(2.0);
  }
  double slope(double y, double p) const { return std::tanh(p - y); }
};

// y' log(y'/p') with y' = clip(y, eps, 1), p' = clip(p, eps, 1); summed over d (Keras)
struct KLDivergence {
  static double clip01(double x) { return std::min(std::max(x, kEps), 1.0); }
  double value(double y, double p) const { return clip01(y) * std::log(clip01(y) / clip01(p)); }
  double slope(double y, double p) const { return (p < kEps || p > 1.0) ? 0.0 : -clip01(y) / p; }
};

// p - y log(p + eps)
struct Poisson {
  double value(double y, double p) const { return p - y * std::log(p + kEps); }
  double slope(double y, double p) const { return 1.0 - y / (p + kEps); }
};

struct BinaryCrossentropy {
  bool from_logits;
  double smoothing;  // label smoothing: y -> y (1 - smoothing) + smoothing / 2
  double value(double y, double p) const {
    y = y * (1.0 - smoothing) + 0.5 * smoothing;
    // logits: max(z,0) - z y + log(1 + exp(-|z|)), which never exponentiates a positive number
    if (from_logits) return std::max(p, 0.0) - p * y + std::log1p(std::exp(-std::fabs(p)));
    double q = clip(p);
    return -(y * std::log(q) + (1.0 - y) * std::log(1.0 - q));
  }
  double slope(double y, double p) const {
    y = y * (1.0 - smoothing) + 0.5 * smoothing;
    if (from_logits) return sigmoid(p) - y;
    if (p < kLo || p > kHi) return 0.0;  // clip has zero slope outside [lo, hi]
    return -y / p + (1.0 - y) / (1.0 - p);
  }
};

// Keras converts labels to -1/1 only when EVERY label is 0 or 1.
bool labels_are_binary(const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (y[i] != 0.0f && y[i] != 1.0f) return false;
  return true;
}

// max(1 - y p, 0), squared for squared_hinge
struct Hinge {
  bool binary, squared;
  double margin(double y, double p) const { return std::max(1.0 - (binary ? 2.0 * y - 1.0 : y) * p, 0.0); }
  double value(double y, double p) const { double m = margin(y, p); return squared ? m * m : m; }
  double slope(double y, double p) const {
    double m = margin(y, p), yy = binary ? 2.0 * y - 1.0 : y;
    return m > 0.0 ? -yy * (squared ? 2.0 * m : 1.0) : 0.0;
  }
};

}  // namespace

#define NK_POINTWISE_LOSS(name, make, sum_over_d)                                                    \
  float name##_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,     \
                       int64_t D) {                                                                \
    return pointwise_forward(per_sample, y_true, y_pred, N, D, make, sum_over_d);                  \
  }                                                                                                \
  void name##_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D) { \
    pointwise_backward(dpred, y_true, y_pred, N, D, make, sum_over_d);                              \
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

float huber_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                    float delta) {
  return pointwise_forward(per_sample, y_true, y_pred, N, D, Huber{delta});
}
void huber_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                    float delta) {
  pointwise_backward(dpred, y_true, y_pred, N, D, Huber{delta});
}

float binary_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D, bool from_logits, float label_smoothing) {
  return pointwise_forward(per_sample, y_true, y_pred, N, D,
                           BinaryCrossentropy{from_logits, label_smoothing});
}
void binary_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D, bool from_logits, float label_smoothing) {
  pointwise_backward(dpred, y_true, y_pred, N, D, BinaryCrossentropy{from_logits, label_smoothing});
}

// ---- categorical cross-entropy --------------------------------------------------------------
// Label smoothing ls replaces each target y_c by y_c (1 - ls) + ls / C.

namespace {
struct SmoothedRow {
  const float* y;
  double keep, add;  // y'_c = keep * y_c + add
  SmoothedRow(const float* row, int64_t C, float ls) : y(row), keep(1.0 - ls), add(double{ls} / C) {}
  double operator[](int64_t c) const { return keep * y[c] + add; }
  double sum(int64_t C) const { return keep * row_sum(y, C) + add * C; }
};
}  // namespace

float categorical_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred,
                                       int64_t N, int64_t C, bool from_logits, float label_smoothing) {
  return mean_over_rows(per_sample, N, C, [=](int64_t n) {
    const SmoothedRow y(y_true + n * C, C, label_smoothing);
    const float* p = y_pred + n * C;
    double s = 0.0;
    if (from_logits) {
      double lse = log_sum_exp(p, C);  // -log softmax(z)_c = lse - z_c
      for (int64_t c = 0; c < C; ++c) s += y[c] * (lse - p[c]);
    } else {
      double inv_sum = 1.0 / row_sum(p, C);  // Keras renormalises p to sum to 1
      for (int64_t c = 0; c < C; ++c) {
        s -= y[c] * std::log(clip(p[c] * inv_sum));
      }
    }
    return s;
  });
}

void categorical_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred,
                                       int64_t N, int64_t C, bool from_logits, float label_smoothing) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, C, [=](int64_t n) {
    const SmoothedRow y(y_true + n * C, C, label_smoothing);
    const float* p = y_pred + n * C;
    float* dp = dpred + n * C;
    if (from_logits) {
      double lse = log_sum_exp(p, C), sum_y = y.sum(C);
      for (int64_t c = 0; c < C; ++c)
        dp[c] = static_cast<float>((std::exp(p[c] - lse) * sum_y - y[c]) * inv_n);
    } else {
      // q = p/s; dL/dq_c = g_c = -y_c/q_c (0 where clipped); dq_c/dp_k = (delta_ck - q_c)/s
      double inv_sum = 1.0 / row_sum(p, C), gq = 0.0;
      for (int64_t c = 0; c < C; ++c) {
        double q = p[c] * inv_sum;
        if (q >= kLo && q <= kHi) gq -= y[c];  // g_c q_c = -y_c
      }
      for (int64_t c = 0; c < C; ++c) {
        double q = p[c] * inv_sum;
        double g = (q >= kLo && q <= kHi) ? -y[c] / q : 0.0;
        dp[c] = static_cast<float>((g - gq) * inv_sum * inv_n);
      }
    }
  });
}

// ---- sparse categorical cross-entropy -------------------------------------------------------

template <typename L>
int64_t first_bad_label(const L* labels, int64_t N, int64_t C) {
  for (int64_t n = 0; n < N; ++n)
    if (labels[n] < 0 || static_cast<int64_t>(labels[n]) >= C) return n;
  return -1;
}

template <typename L>
float sparse_categorical_crossentropy_forward(float* per_sample, const L* labels, const float* y_pred,
                                              int64_t N, int64_t C, bool from_logits) {
  return mean_over_rows(per_sample, N, C, [=](int64_t n) {
    const float* p = y_pred + n * C;
    const int64_t k = static_cast<int64_t>(labels[n]);
    if (from_logits) return log_sum_exp(p, C) - p[k];
    double q = p[k] / row_sum(p, C);
    return -std::log(clip(q));
  });
}

template <typename L>
void sparse_categorical_crossentropy_backward(float* dpred, const L* labels, const float* y_pred,
                                              int64_t N, int64_t C, bool from_logits) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, C, [=](int64_t n) {
    const float* p = y_pred + n * C;
    float* dp = dpred + n * C;
    const int64_t k = static_cast<int64_t>(labels[n]);
    if (from_logits) {
      double lse = log_sum_exp(p, C);
      for (int64_t c = 0; c < C; ++c)
        dp[c] = static_cast<float>((std::exp(p[c] - lse) - (c == k ? 1.0 : 0.0)) * inv_n);
    } else {
      // the categorical formula with y = onehot(k): d_c = (1 - [c == k]/q_k) / s
      double inv_sum = 1.0 / row_sum(p, C), q = p[k] * inv_sum;
      bool clipped = q < kLo || q > kHi;
      for (int64_t c = 0; c < C; ++c)
        dp[c] = clipped ? 0.0f
                        : static_cast<float>((1.0 - (c == k ? 1.0 / q : 0.0)) * inv_sum * inv_n);
    }
  });
}

// ---- cosine similarity ----------------------------------------------------------------------

namespace {
// Keras's l2 normalisation: x * min(1/|x|, 1/eps) (so a zero vector stays zero).
double inv_norm(double sum_sq) { return std::min(1.0 / std::sqrt(sum_sq), 1.0 / kLossEpsilon); }
}  // namespace

float cosine_similarity_forward(float* per_sample, const float* y_true, const float* y_pred,
                                int64_t N, int64_t D) {
  return mean_over_rows(per_sample, N, D, [=](int64_t n) {
    const float *y = y_true + n * D, *p = y_pred + n * D;
    double yy = 0, pp = 0, yp = 0;
    for (int64_t d = 0; d < D; ++d) {
      yy += static_cast<double>(y[d]) * y[d];
      pp += static_cast<double>(p[d]) * p[d];
      yp += static_cast<double>(y[d]) * p[d];
    }
    return -yp * inv_norm(yy) * inv_norm(pp);
  });
}

void cosine_similarity_backward(float* dpred, const float* y_true, const float* y_pred,
                                int64_t N, int64_t D) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, D, [=](int64_t n) {
    const float *y = y_true + n * D, *p = y_pred + n * D;
    float* dp = dpred + n * D;
    double yy = 0, pp = 0, yp = 0;
    for (int64_t d = 0; d < D; ++d) {
      yy += static_cast<double>(y[d]) * y[d];
      pp += static_cast<double>(p[d]) * p[d];
      yp += static_cast<double>(y[d]) * p[d];
    }
    double iy = inv_norm(yy), ip = inv_norm(pp);
    // |p| below eps: the clamp makes ip a constant, so only the u.p term's p-dependence remains
    bool clamped = !(1.0 / std::sqrt(pp) < 1.0 / kLossEpsilon);
    double radial = clamped ? 0.0 : yp * ip * ip;  // (u.p)|p|^-2 without the iy factor
    for (int64_t d = 0; d < D; ++d)
      dp[d] = static_cast<float>(-iy * ip * (y[d] - radial * p[d]) * inv_n);
  });
}

// ---- categorical hinge ----------------------------------------------------------------------
// pos = sum_c y_c p_c, neg = max_c (1 - y_c) p_c (at c = k), L_n = max(neg - pos + 1, 0)
// d_c = ([c == k] (1 - y_c) - y_c) / N where L_n > 0, else 0 (ties: the first maximum)

float categorical_hinge_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                                int64_t C) {
  return mean_over_rows(per_sample, N, C, [=](int64_t n) {
    const float *y = y_true + n * C, *p = y_pred + n * C;
    double pos = 0.0, neg = -INFINITY;
    for (int64_t c = 0; c < C; ++c) {
      pos += static_cast<double>(y[c]) * p[c];
      neg = std::max(neg, (1.0 - y[c]) * p[c]);
    }
    return std::max(neg - pos + 1.0, 0.0);
  });
}

void categorical_hinge_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N,
                                int64_t C) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, C, [=](int64_t n) {
    const float *y = y_true + n * C, *p = y_pred + n * C;
    float* dp = dpred + n * C;
    double pos = 0.0, neg = -INFINITY;
    int64_t k = 0;
    for (int64_t c = 0; c < C; ++c) {
      pos += static_cast<double>(y[c]) * p[c];
      double t = (1.0 - y[c]) * p[c];
      if (t > neg) neg = t, k = c;
    }
    bool active = neg - pos + 1.0 > 0.0;
    for (int64_t c = 0; c < C; ++c)
      dp[c] = active ? static_cast<float>(((c == k ? 1.0 - y[c] : 0.0) - y[c]) * inv_n) : 0.0f;
  });
}

// ---- fused activation + loss ----------------------------------------------------------------

void softmax_cross_entropy_backward(float* dlogits, const float* y_true, const float* probs,
                                    int64_t N, int64_t C, float label_smoothing) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, C, [=](int64_t n) {
    const SmoothedRow y(y_true + n * C, C, label_smoothing);
    const float* p = probs + n * C;
    double sum_y = y.sum(C);  // 1 for one-hot or smoothed labels
    for (int64_t c = 0; c < C; ++c)
      dlogits[n * C + c] = static_cast<float>((p[c] * sum_y - y[c]) * inv_n);
  });
}

template <typename L>
void sparse_softmax_cross_entropy_backward(float* dlogits, const L* labels, const float* probs,
                                           int64_t N, int64_t C) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, C, [=](int64_t n) {
    const int64_t k = static_cast<int64_t>(labels[n]);
    for (int64_t c = 0; c < C; ++c)
      dlogits[n * C + c] = static_cast<float>((probs[n * C + c] - (c == k ? 1.0 : 0.0)) * inv_n);
  });
}

void sigmoid_binary_crossentropy_backward(float* dlogits, const float* y_true, const float* probs,
                                          int64_t N, int64_t D, float label_smoothing) {
  const double scale = 1.0 / (static_cast<double>(N) * D);
  const double keep = 1.0 - label_smoothing, add = 0.5 * label_smoothing;
  for_rows(N, D, [=](int64_t n) {
    for (int64_t i = n * D; i < (n + 1) * D; ++i)
      dlogits[i] = static_cast<float>((probs[i] - (keep * y_true[i] + add)) * scale);
  });
}

// Label types the bindings accept.
#define NK_LOSS_INSTANTIATE(L)                                                                  \
  template int64_t first_bad_label<L>(const L*, int64_t, int64_t);                              \
  template float sparse_categorical_crossentropy_forward<L>(float*, const L*, const float*,     \
                                                            int64_t, int64_t, bool);            \
  template void sparse_categorical_crossentropy_backward<L>(float*, const L*, const float*,     \
                                                            int64_t, int64_t, bool);            \
  template void sparse_softmax_cross_entropy_backward<L>(float*, const L*, const float*, int64_t, \
                                                         int64_t);
NK_LOSS_INSTANTIATE(int32_t)
NK_LOSS_INSTANTIATE(int64_t)
#undef NK_LOSS_INSTANTIATE

}  // namespace nk
