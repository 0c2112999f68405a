// loss.cpp - Keras loss functions, forward and backward side by side.
//
// Size letters: N samples (leading axes flattened), D values per sample (last axis), C classes.
// y = y_true, p = y_pred, z = logits, eps = 1e-7 (keras.backend.epsilon()); lo = eps and
// hi = 1 - eps are rounded to float32 as Keras's float32 clip does. Per-sample loss L_n, then
// loss = (1/N) sum_n L_n. Sums run in double; backward writes dpred = d loss / d p (overwrite).
//
//   mean_squared_error        L_n = mean_d (y - p)^2                  d = 2 (p - y) / (N D)
//   mean_absolute_error       L_n = mean_d |y - p|                    d = sign(p - y) / (N D)
//   binary_crossentropy       q = clip(p, lo, hi)
//                             L_n = mean_d -(y log q + (1 - y) log(1 - q))
//                             d = (-y/q + (1-y)/(1-q)) / (N D), 0 where p was clipped
//     from_logits             L_n = mean_d max(z,0) - z y + log1p(exp(-|z|))
//                             d = (sigmoid(z) - y) / (N D)
//   categorical_crossentropy  s = sum_c p, q = clip(p / s, lo, hi), L_n = -sum_c y log q
//                             g_c = -y_c / q_c (0 where clipped): d_k = (g_k - sum_c g_c q_c) / (s N)
//     from_logits             L_n = sum_c y_c (lse - z_c), lse = log sum_c exp z_c
//                             d = (softmax(z) sum_c y_c - y) / N
//   sparse_categorical_...    the categorical loss with y = onehot(label)
//                             (Keras's JAX/NumPy/torch form; TF clips before normalising, which
//                             differs only when the rows of p do not sum to 1)
//   hinge                     y -> 2y - 1 if every label is 0 or 1; L_n = mean_d max(1 - y p, 0)
//                             d = -y / (N D) where 1 - y p > 0, else 0
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

// ---- mean squared / absolute error ----------------------------------------------------------

float mean_squared_error_forward(float* per_sample, const float* y_true, const float* y_pred,
                                 int64_t N, int64_t D) {
  return mean_over_rows(per_sample, N, D, [=](int64_t n) {
    const float *y = y_true + n * D, *p = y_pred + n * D;
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) {
      double e = static_cast<double>(y[d]) - p[d];
      s += e * e;
    }
    return s / D;
  });
}

void mean_squared_error_backward(float* dpred, const float* y_true, const float* y_pred,
                                 int64_t N, int64_t D) {
  const float scale = static_cast<float>(2.0 / (static_cast<double>(N) * D));
  for_rows(N, D, [=](int64_t n) {
    for (int64_t i = n * D; i < (n + 1) * D; ++i) dpred[i] = scale * (y_pred[i] - y_true[i]);
  });
}

float mean_absolute_error_forward(float* per_sample, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D) {
  return mean_over_rows(per_sample, N, D, [=](int64_t n) {
    const float *y = y_true + n * D, *p = y_pred + n * D;
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) s += std::fabs(static_cast<double>(y[d]) - p[d]);
    return s / D;
  });
}

void mean_absolute_error_backward(float* dpred, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D) {
  const float scale = static_cast<float>(1.0 / (static_cast<double>(N) * D));
  for_rows(N, D, [=](int64_t n) {
    for (int64_t i = n * D; i < (n + 1) * D; ++i) {
      float e = y_pred[i] - y_true[i];
      dpred[i] = e > 0 ? scale : (e < 0 ? -scale : 0.0f);  // sign(0) = 0, as TF's abs gradient
    }
  });
}

// ---- binary cross-entropy -------------------------------------------------------------------

float binary_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D, bool from_logits) {
  return mean_over_rows(per_sample, N, D, [=](int64_t n) {
    const float *y = y_true + n * D, *p = y_pred + n * D;
    double s = 0.0;
    for (int64_t d = 0; d < D; ++d) {
      double yd = y[d];
      if (from_logits) {
        // max(z,0) - z y + log(1 + exp(-|z|)): never exponentiates a positive number
        double z = p[d];
        s += std::max(z, 0.0) - z * yd + std::log1p(std::exp(-std::fabs(z)));
      } else {
        double q = clip(p[d]);
        s += -(yd * std::log(q) + (1.0 - yd) * std::log(1.0 - q));
      }
    }
    return s / D;
  });
}

void binary_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D, bool from_logits) {
  const double scale = 1.0 / (static_cast<double>(N) * D);
  for_rows(N, D, [=](int64_t n) {
    for (int64_t i = n * D; i < (n + 1) * D; ++i) {
      double y = y_true[i], p = y_pred[i];
      double g;
      if (from_logits) g = sigmoid(p) - y;
      else if (y_pred[i] < kLo || y_pred[i] > kHi) g = 0.0;  // clip has zero slope outside
      else g = -y / p + (1.0 - y) / (1.0 - p);
      dpred[i] = static_cast<float>(g * scale);
    }
  });
}

// ---- categorical cross-entropy --------------------------------------------------------------

float categorical_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred,
                                       int64_t N, int64_t C, bool from_logits) {
  return mean_over_rows(per_sample, N, C, [=](int64_t n) {
    const float *y = y_true + n * C, *p = y_pred + n * C;
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
                                       int64_t N, int64_t C, bool from_logits) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, C, [=](int64_t n) {
    const float *y = y_true + n * C, *p = y_pred + n * C;
    float* dp = dpred + n * C;
    if (from_logits) {
      double lse = log_sum_exp(p, C), sum_y = row_sum(y, C);
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

// ---- hinge ----------------------------------------------------------------------------------

namespace {
// Keras converts labels to -1/1 only when EVERY label is 0 or 1.
bool labels_are_binary(const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (y[i] != 0.0f && y[i] != 1.0f) return false;
  return true;
}
}  // namespace

float hinge_forward(float* per_sample, const float* y_true, const float* y_pred,
                    int64_t N, int64_t D) {
  const bool binary = labels_are_binary(y_true, N * D);
  return mean_over_rows(per_sample, N, D, [=](int64_t n) {
    double s = 0.0;
    for (int64_t i = n * D; i < (n + 1) * D; ++i) {
      double y = binary ? 2.0 * y_true[i] - 1.0 : y_true[i];
      s += std::max(1.0 - y * y_pred[i], 0.0);
    }
    return s / D;
  });
}

void hinge_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D) {
  const bool binary = labels_are_binary(y_true, N * D);
  const double scale = 1.0 / (static_cast<double>(N) * D);
  for_rows(N, D, [=](int64_t n) {
    for (int64_t i = n * D; i < (n + 1) * D; ++i) {
      double y = binary ? 2.0 * y_true[i] - 1.0 : y_true[i];
      dpred[i] = 1.0 - y * y_pred[i] > 0.0 ? static_cast<float>(-y * scale) : 0.0f;
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

// ---- fused activation + loss ----------------------------------------------------------------

void softmax_cross_entropy_backward(float* dlogits, const float* y_true, const float* probs,
                                    int64_t N, int64_t C) {
  const double inv_n = 1.0 / static_cast<double>(N);
  for_rows(N, C, [=](int64_t n) {
    const float *y = y_true + n * C, *p = probs + n * C;
    double sum_y = row_sum(y, C);  // 1 for one-hot or smoothed labels
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
                                          int64_t N, int64_t D) {
  const double scale = 1.0 / (static_cast<double>(N) * D);
  for_rows(N, D, [=](int64_t n) {
    for (int64_t i = n * D; i < (n + 1) * D; ++i)
      dlogits[i] = static_cast<float>((static_cast<double>(probs[i]) - y_true[i]) * scale);
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
