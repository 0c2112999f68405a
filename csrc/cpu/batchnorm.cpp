// batchnorm.cpp - batch normalization: the naive reference, the rows variant's driver (its passes
// are in cpu/batchnorm_kernels.inc, built here for SSE2 and in batchnorm_avx2/avx512.cpp) and the
// dispatcher. Definitions and size letters: cpu/batchnorm.h.
#include "cpu/batchnorm.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/cpu_features.h"
#include "core/parallel.h"

namespace nk {

// Moving statistics as Keras: moving = moving * momentum + batch * (1 - momentum), in float32.
static void update_moving(float* moving_mean, float* moving_var, const float* mean, const float* var,
                          int64_t C, float momentum) {
  for (int64_t c = 0; c < C; ++c) {
    moving_mean[c] = moving_mean[c] * momentum + mean[c] * (1.0f - momentum);
    moving_var[c] = moving_var[c] * momentum + var[c] * (1.0f - momentum);
  }
}

// ---------------------------------------------------------------------------------------------
// naive: one channel at a time, sums in double.

void batch_norm_forward_naive(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                              const float* beta, float* moving_mean, float* moving_var, const BatchNormArgs& a) {
  const int64_t M = a.M, C = a.C;
  std::vector<float> var(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    double mu_d = 0.0;
    if (a.training) {
      double s = 0.0, ss = 0.0;
      for (int64_t m = 0; m < M; ++m) s += x[m * C + c];
      const double mu = mu_d = s / static_cast<double>(M);
      for (int64_t m = 0; m < M; ++m) ss += (x[m * C + c] - mu) * (x[m * C + c] - mu);
      mean[c] = static_cast<float>(mu);
      var[c] = static_cast<float>(ss / static_cast<double>(M));  // biased, as Keras
    } else {
      mean[c] = moving_mean[c];
      var[c] = moving_var[c];
    }
    invstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[c]) + a.eps));
    const double g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
    const double mu = a.training ? mu_d : static_cast<double>(mean[c]);  // the exact batch mean
    for (int64_t m = 0; m < M; ++m) y[m * C + c] = static_cast<float>(g * (x[m * C + c] - mu) * invstd[c] + b);
  }
  if (a.training) update_moving(moving_mean, moving_var, mean, var.data(), C, a.momentum);
}

void batch_norm_backward_naive(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                               const float* gamma, const float* mean, const float* invstd, int64_t M,
                               int64_t C, bool training) {
  for (int64_t c = 0; c < C; ++c) {
    double sdy = 0.0, sdyxh = 0.0;  // sum dy, sum dy * xhat
    for (int64_t m = 0; m < M; ++m) {
      sdy += dy[m * C + c];
      sdyxh += static_cast<double>(dy[m * C + c]) * (x[m * C + c] - mean[c]) * invstd[c];
    }
    const double g = gamma ? gamma[c] : 1.0, Md = static_cast<double>(M);
    for (int64_t m = 0; m < M; ++m) {
      const double xhat = (static_cast<double>(x[m * C + c]) - mean[c]) * invstd[c];
      dx[m * C + c] = training
          ? static_cast<float>(g * invstd[c] / Md * (Md * dy[m * C + c] - sdy - xhat * sdyxh))
          : static_cast<float>(g * invstd[c] * dy[m * C + c]);
    }
    if (dgamma) dgamma[c] += static_cast<float>(sdyxh);
    if (dbeta) dbeta[c] += static_cast<float>(sdy);
  }
}

// ---------------------------------------------------------------------------------------------
// rows: per-ISA passes, driven below.
namespace batchnorm_sse2 {
#include "cpu/batchnorm_kernels.inc"
}

namespace {
struct BnKernels {
  decltype(&batchnorm_sse2::channel_sums) channel_sums;
  decltype(&batchnorm_sse2::normalize) normalize;
  decltype(&batchnorm_sse2::backward_dx) backward_dx;
};
BnKernels bn_kernels() {
  switch (active_isa()) {
    case Isa::avx512:
      return {batchnorm_avx512::channel_sums, batchnorm_avx512::normalize, batchnorm_avx512::backward_dx};
    case Isa::avx2:
      return {batchnorm_avx2::channel_sums, batchnorm_avx2::normalize, batchnorm_avx2::backward_dx};
    default:
      return {batchnorm_sse2::channel_sums, batchnorm_sse2::normalize, batchnorm_sse2::backward_dx};
  }
}
}  // namespace

void batch_norm_forward(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                        const float* beta, float* moving_mean, float* moving_var, const BatchNormArgs& a) {
  const int64_t M = a.M, C = a.C;
  const BnKernels k = bn_kernels();
  std::vector<float> var(static_cast<size_t>(C)), scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  std::vector<double> resid(static_cast<size_t>(C), 0.0);  // batch mean - float32 mean (training)
  if (a.training) {
    // One pass of shifted sums: s1 = sum(x - K), s2 = sum((x - K)^2) with K the mean of the first
    // (up to) 64 rows, so var = s2/M - (s1/M)^2 cancels little (K is near the batch mean).
    std::vector<double> s1(static_cast<size_t>(C)), s2(static_cast<size_t>(C));
    std::vector<float> shift_k(static_cast<size_t>(C), 0.0f);
    const int64_t mk = std::min<int64_t>(M, 64);
    for (int64_t m = 0; m < mk; ++m)
      for (int64_t c = 0; c < C; ++c) shift_k[c] += x[m * C + c];
    for (int64_t c = 0; c < C; ++c) shift_k[c] /= static_cast<float>(mk);
    k.channel_sums(s1.data(), s2.data(), x, nullptr, shift_k.data(), M, C);
    const double Md = static_cast<double>(M);
    for (int64_t c = 0; c < C; ++c) {
      const double d = s1[c] / Md, mu = shift_k[c] + d;
      mean[c] = static_cast<float>(mu);
      resid[c] = mu - static_cast<double>(mean[c]);  // what float32 could not hold of the batch mean
      var[c] = static_cast<float>(std::max(s2[c] / Md - d * d, 0.0));
    }
  } else {
    for (int64_t c = 0; c < C; ++c) { mean[c] = moving_mean[c]; var[c] = moving_var[c]; }
  }
  for (int64_t c = 0; c < C; ++c) {
    invstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[c]) + a.eps));
    scale[c] = (gamma ? gamma[c] : 1.0f) * invstd[c];
    // y = (x - mean_f32) * scale + (beta - resid * scale): the residual keeps the exact batch mean
    // when float32 cannot hold it (channels centred far from 0)
    shift[c] = static_cast<float>((beta ? beta[c] : 0.0f) - resid[c] * scale[c]);
  }
  if (M > 0) k.normalize(y, x, mean, scale.data(), shift.data(), M, C);
  if (a.training) update_moving(moving_mean, moving_var, mean, var.data(), C, a.momentum);
}

// dx = a*dy - k0 - k2*(x - mean) with a = gamma*invstd, k0 = a*sum(dy)/M,
// k2 = a*invstd*sum(dy*xhat)/M: the standard formula with xhat = (x - mean)*invstd expanded.
void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* gamma, const float* mean, const float* invstd, int64_t M, int64_t C,
                         bool training) {
  const BnKernels k = bn_kernels();
  std::vector<double> sdy(static_cast<size_t>(C)), sdyxc(static_cast<size_t>(C));  // sum dy, sum dy*(x-mean)
  k.channel_sums(sdy.data(), sdyxc.data(), dy, x, mean, M, C);
  std::vector<float> k0(static_cast<size_t>(C)), k1(static_cast<size_t>(C)), k2(static_cast<size_t>(C));
  const double Md = static_cast<double>(M);
  for (int64_t c = 0; c < C; ++c) {
    const double sdyxh = sdyxc[c] * invstd[c];
    const double ac = (gamma ? gamma[c] : 1.0) * invstd[c];
    k1[c] = static_cast<float>(ac);
    k0[c] = training ? static_cast<float>(ac * sdy[c] / Md) : 0.0f;
    k2[c] = training ? static_cast<float>(ac * invstd[c] * sdyxh / Md) : 0.0f;
    if (dgamma) dgamma[c] += static_cast<float>(sdyxh);
    if (dbeta) dbeta[c] += static_cast<float>(sdy[c]);
  }
  if (M > 0) k.backward_dx(dx, dy, x, mean, k0.data(), k1.data(), k2.data(), M, C);
}

}  // namespace nk
