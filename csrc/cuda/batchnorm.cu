// batchnorm.cu - batch normalization on the GPU: the naive reference kernels and the rows variant.
// Definitions, size letters and variants: cuda/batchnorm.h (formulas as cpu/batchnorm.h).
//
// rows variant, pieces:
//   channel_sums   grid (ceil(C/32), chunks), block (32, 8): thread (tx, ty) of chunk k sums rows
//                  m = k*R + ty, k*R + ty + 8, ... (R rows per chunk) of channel c = 32 bx + tx in
//                  double (consecutive tx read consecutive channels: coalesced); the 8 stripes are
//                  added in order in shared memory and the chunk's sums go to a (chunks, C) scratch.
//                    b == null: s1 = sum (a - ctr), s2 = sum (a - ctr)^2
//                    b != null: s1 = sum a,         s2 = sum a (b - ctr)      (ctr null means 0)
//   *_finalize     one thread per channel adds the chunk partials in chunk order (so the result
//                  is deterministic) and turns them into statistics / coefficients.
//   normalize      y  = (x - mean) scale + shift                 one thread per element
//   backward_dx    dx = k1 dy - k0 - k2 (x - mean)                one thread per element
// Training statistics: pass 1 gives the mean mu (double); pass 2 the sums d1 = sum (x - mu) and
// d2 = sum (x - mu)^2, var = d2/M - (d1/M)^2 (the corrected two-pass formula: exact up to rounding
// even for channels centred far from 0). y uses the float32 mean plus the residual mu - mean_f32
// folded into shift, as the CPU rows variant.
#include "cuda/batchnorm.h"

#include <cmath>
#include <cstddef>

#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kTileC = 32, kStripes = 8;  // channel_sums block: 32 channels x 8 row stripes

int blocks_for(int64_t n) { return grid_stride_blocks(n, kThreads); }

#define NK_FOR_EACH_ELEMENT(i, n)                                                   \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);         \
       i += (int64_t)blockDim.x * gridDim.x)

// ---- naive: one thread per channel, double sums (cpu/batchnorm.cpp's naive loops) -------------

__global__ void batch_norm_forward_naive_kernel(float* __restrict__ y, float* __restrict__ mean,
                                                float* __restrict__ invstd, const float* __restrict__ x,
                                                const float* __restrict__ gamma, const float* __restrict__ beta,
                                                float* __restrict__ moving_mean, float* __restrict__ moving_var,
                                                BatchNormArgs a) {
  const int64_t M = a.M, C = a.C;
  NK_FOR_EACH_ELEMENT(c, C) {
    double mu = 0.0;
    float var;
    if (a.training) {
      double s = 0.0, ss = 0.0;
      for (int64_t m = 0; m < M; ++m) s += x[m * C + c];
      mu = s / static_cast<double>(M);
      for (int64_t m = 0; m < M; ++m) ss += (x[m * C + c] - mu) * (x[m * C + c] - mu);
      mean[c] = static_cast<float>(mu);
      var = static_cast<float>(ss / static_cast<double>(M));  // biased, as Keras
    } else {
      mean[c] = moving_mean[c];
      var = moving_var[c];
      mu = mean[c];
    }
    const float is = static_cast<float>(1.0 / sqrt(static_cast<double>(var) + a.eps));
    invstd[c] = is;
    const double gm = gamma ? gamma[c] : 1.0, bt = beta ? beta[c] : 0.0;
    for (int64_t m = 0; m < M; ++m) y[m * C + c] = static_cast<float>(gm * (x[m * C + c] - mu) * is + bt);
    if (a.training) {  // Keras: moving = moving * momentum + batch * (1 - momentum), in float32
      moving_mean[c] = moving_mean[c] * a.momentum + mean[c] * (1.0f - a.momentum);
      moving_var[c] = moving_var[c] * a.momentum + var * (1.0f - a.momentum);
    }
  }
}

__global__ void batch_norm_backward_naive_kernel(float* __restrict__ dx, float* __restrict__ dgamma,
                                                 float* __restrict__ dbeta, const float* __restrict__ dy,
                                                 const float* __restrict__ x, const float* __restrict__ gamma,
                                                 const float* __restrict__ mean, const float* __restrict__ invstd,
                                                 int64_t M, int64_t C, bool training) {
  NK_FOR_EACH_ELEMENT(c, C) {
    double sdy = 0.0, sdyxh = 0.0;  // sum dy, sum dy * xhat
    for (int64_t m = 0; m < M; ++m) {
      sdy += dy[m * C + c];
      sdyxh += static_cast<double>(dy[m * C + c]) * (x[m * C + c] - mean[c]) * invstd[c];
    }
    const double gm = gamma ? gamma[c] : 1.0, Md = static_cast<double>(M);
    for (int64_t m = 0; m < M; ++m) {
      const double xhat = (static_cast<double>(x[m * C + c]) - mean[c]) * invstd[c];
      dx[m * C + c] = training ? static_cast<float>(gm * invstd[c] / Md * (Md * dy[m * C + c] - sdy - xhat * sdyxh))
                               : static_cast<float>(gm * invstd[c] * dy[m * C + c]);
    }
    if (dgamma) dgamma[c] += static_cast<float>(sdyxh);
    if (dbeta) dbeta[c] += static_cast<float>(sdy);
  }
}

// ---- rows ----------------------------------------------------------------------------------

// s1, s2: (chunks, C) double partials (s2 may be null when not wanted); rows [k R, min((k+1) R, M)).
template <typename Ctr>
__global__ void channel_sums_kernel(double* __restrict__ s1, double* __restrict__ s2, const float* __restrict__ a,
                                    const float* __restrict__ b, const Ctr* __restrict__ ctr, int64_t M, int64_t C,
                                    int64_t R) {
  __shared__ double p1[kStripes][kTileC], p2[kStripes][kTileC];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kTileC + tx, k = blockIdx.y;
  const int64_t m_end = (k + 1) * R < M ? (k + 1) * R : M;
  double t1 = 0.0, t2 = 0.0;
  if (c < C) {
    const double z = ctr ? static_cast<double>(ctr[c]) : 0.0;
    for (int64_t m = k * R + ty; m < m_end; m += kStripes) {
      const double v = a[m * C + c];
      if (b) {
        t1 += v;
        t2 += v * (static_cast<double>(b[m * C + c]) - z);
      } else {
        t1 += v - z;
        t2 += (v - z) * (v - z);
      }
    }
  }
  p1[ty][tx] = t1;
  p2[ty][tx] = t2;
  __syncthreads();
  if (ty == 0 && c < C) {
    for (int j = 1; j < kStripes; ++j) { t1 += p1[j][tx]; t2 += p2[j][tx]; }
    s1[k * C + c] = t1;
    if (s2) s2[k * C + c] = t2;
  }
}

// Training, after pass 1: mu[c] = sum of the chunk partials / M (double), mean[c] = mu rounded.
__global__ void mean_finalize_kernel(double* __restrict__ mu, float* __restrict__ mean, const double* __restrict__ s1,
                                     int64_t chunks, int64_t M, int64_t C) {
  NK_FOR_EACH_ELEMENT(c, C) {
    double s = 0.0;
    for (int64_t k = 0; k < chunks; ++k) s += s1[k * C + c];
    mu[c] = s / static_cast<double>(M);
    mean[c] = static_cast<float>(mu[c]);
  }
}

// Statistics -> invstd, the normalize coefficients (scale, shift) and, in training, the moving
// averages. Training: var from the pass-2 partials d1, d2 around mu; inference: the moving ones.
__global__ void stats_finalize_kernel(float* __restrict__ invstd, float* __restrict__ scale, float* __restrict__ shift,
                                      float* __restrict__ mean, float* __restrict__ moving_mean,
                                      float* __restrict__ moving_var, const double* __restrict__ mu,
                                      const double* __restrict__ d1, const double* __restrict__ d2,
                                      const float* __restrict__ gamma, const float* __restrict__ beta, int64_t chunks,
                                      BatchNormArgs a) {
  NK_FOR_EACH_ELEMENT(c, a.C) {
    float var;
    double resid = 0.0;  // batch mean - float32 mean: what float32 could not hold
    if (a.training) {
      double s1 = 0.0, s2 = 0.0;
      for (int64_t k = 0; k < chunks; ++k) { s1 += d1[k * a.C + c]; s2 += d2[k * a.C + c]; }
      const double Md = static_cast<double>(a.M), d = s1 / Md, v = s2 / Md - d * d;
      const double exact = mu[c] + d;  // pass 1's mean, corrected by pass 2's residual sum
      mean[c] = static_cast<float>(exact);
      var = static_cast<float>(v > 0.0 ? v : 0.0);
      resid = exact - static_cast<double>(mean[c]);
    } else {
      mean[c] = moving_mean[c];
      var = moving_var[c];
    }
    const float is = static_cast<float>(1.0 / sqrt(static_cast<double>(var) + a.eps));
    invstd[c] = is;
    scale[c] = (gamma ? gamma[c] : 1.0f) * is;
    shift[c] = static_cast<float>((beta ? beta[c] : 0.0f) - resid * scale[c]);
    if (a.training) {  // Keras momentum rule, float32
      moving_mean[c] = moving_mean[c] * a.momentum + mean[c] * (1.0f - a.momentum);
      moving_var[c] = moving_var[c] * a.momentum + var * (1.0f - a.momentum);
    }
  }
}

__global__ void normalize_kernel(float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ mean,
                                 const float* __restrict__ scale, const float* __restrict__ shift, int64_t M,
                                 int64_t C) {
  NK_FOR_EACH_ELEMENT(i, M * C) {
    const int64_t c = i % C;
    y[i] = (x[i] - mean[c]) * scale[c] + shift[c];
  }
}

// sdy, sdyxc: (chunks, C) partials of sum dy and sum dy (x - mean) -> k0, k1, k2 (C,) and the
// accumulated parameter gradients. dx = k1 dy - k0 - k2 (x - mean) is the training formula with
// xhat = (x - mean) invstd expanded: k1 = gamma invstd, k0 = k1 sum(dy)/M, k2 = k1 invstd sum(dy xhat)/M.
__global__ void backward_finalize_kernel(float* __restrict__ k0, float* __restrict__ k1, float* __restrict__ k2,
                                         float* __restrict__ dgamma, float* __restrict__ dbeta,
                                         const double* __restrict__ sdy_p, const double* __restrict__ sdyxc_p,
                                         const float* __restrict__ gamma, const float* __restrict__ invstd,
                                         int64_t chunks, int64_t M, int64_t C, bool training) {
  NK_FOR_EACH_ELEMENT(c, C) {
    double sdy = 0.0, sdyxc = 0.0;
    for (int64_t k = 0; k < chunks; ++k) { sdy += sdy_p[k * C + c]; sdyxc += sdyxc_p[k * C + c]; }
    const double sdyxh = sdyxc * invstd[c], ac = (gamma ? gamma[c] : 1.0) * invstd[c];
    const double Md = static_cast<double>(M);
    k1[c] = static_cast<float>(ac);
    k0[c] = training ? static_cast<float>(ac * sdy / Md) : 0.0f;
    k2[c] = training ? static_cast<float>(ac * invstd[c] * sdyxh / Md) : 0.0f;
    if (dgamma) dgamma[c] += static_cast<float>(sdyxh);
    if (dbeta) dbeta[c] += static_cast<float>(sdy);
  }
}

__global__ void backward_dx_kernel(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ x,
                                   const float* __restrict__ mean, const float* __restrict__ k0,
                                   const float* __restrict__ k1, const float* __restrict__ k2, int64_t M, int64_t C) {
  NK_FOR_EACH_ELEMENT(i, M * C) {
    const int64_t c = i % C;
    dx[i] = k1[c] * dy[i] - k0[c] - k2[c] * (x[i] - mean[c]);
  }
}

#undef NK_FOR_EACH_ELEMENT

// Row chunks for channel_sums: enough blocks to fill a GPU, at least 256 rows per chunk.
struct Chunks {
  int64_t count, rows;
};
Chunks row_chunks(int64_t M) {
  int64_t count = (M + 255) / 256;
  if (count > 1024) count = 1024;
  if (count < 1) count = 1;
  return {count, (M + count - 1) / count};
}

template <typename Ctr>
void channel_sums(double* s1, double* s2, const float* a, const float* b, const Ctr* ctr, int64_t M, int64_t C,
                  const Chunks& ch) {
  dim3 grid(static_cast<unsigned>((C + kTileC - 1) / kTileC), static_cast<unsigned>(ch.count));
  dim3 block(kTileC, kStripes);
  NK_LAUNCH(channel_sums_kernel<Ctr>, grid, block, 0, s1, s2, a, b, ctr, M, C, ch.rows);
  NK_CHECK_LAUNCH("channel_sums_kernel");
}

}  // namespace

void batch_norm_forward(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                        const float* beta, float* moving_mean, float* moving_var, const BatchNormArgs& a,
                        BatchNormVariant variant) {
  const int64_t M = a.M, C = a.C;
  if (C == 0) return;
  if (variant == BatchNormVariant::naive) {
    NK_LAUNCH(batch_norm_forward_naive_kernel, blocks_for(C), kThreads, 0, y, mean, invstd, x, gamma, beta,
              moving_mean, moving_var, a);
    NK_CHECK_LAUNCH("batch_norm_forward_naive_kernel");
    return;
  }
  const Chunks ch = row_chunks(M);
  const int64_t parts = a.training ? ch.count * C : 0;
  Buffer coef(sizeof(float) * 2 * C), sums(sizeof(double) * (2 * parts + C));
  float* scale = coef.as<float>();
  float* shift = scale + C;
  double* d1 = sums.as<double>();
  double* d2 = d1 + parts;
  double* mu = d2 + parts;
  if (a.training) {
    channel_sums<float>(d1, nullptr, x, nullptr, nullptr, M, C, ch);  // pass 1: sum x
    NK_LAUNCH(mean_finalize_kernel, blocks_for(C), kThreads, 0, mu, mean, d1, ch.count, M, C);
    NK_CHECK_LAUNCH("mean_finalize_kernel");
    channel_sums<double>(d1, d2, x, nullptr, mu, M, C, ch);  // pass 2: around the mean
  }
  NK_LAUNCH(stats_finalize_kernel, blocks_for(C), kThreads, 0, invstd, scale, shift, mean, moving_mean, moving_var,
            mu, d1, d2, gamma, beta, ch.count, a);
  NK_CHECK_LAUNCH("stats_finalize_kernel");
  if (M == 0) return;
  NK_LAUNCH(normalize_kernel, blocks_for(M * C), kThreads, 0, y, x, mean, scale, shift, M, C);
  NK_CHECK_LAUNCH("normalize_kernel");
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* gamma, const float* mean, const float* invstd, int64_t M, int64_t C,
                         bool training, BatchNormVariant variant) {
  if (C == 0) return;
  if (variant == BatchNormVariant::naive) {
    NK_LAUNCH(batch_norm_backward_naive_kernel, blocks_for(C), kThreads, 0, dx, dgamma, dbeta, dy, x, gamma, mean,
              invstd, M, C, training);
    NK_CHECK_LAUNCH("batch_norm_backward_naive_kernel");
    return;
  }
  const Chunks ch = row_chunks(M);
  Buffer sums(sizeof(double) * 2 * ch.count * C), coef(sizeof(float) * 3 * C);
  double* sdy = sums.as<double>();
  double* sdyxc = sdy + ch.count * C;
  float* k0 = coef.as<float>();
  float *k1 = k0 + C, *k2 = k1 + C;
  channel_sums<float>(sdy, sdyxc, dy, x, mean, M, C, ch);
  NK_LAUNCH(backward_finalize_kernel, blocks_for(C), kThreads, 0, k0, k1, k2, dgamma, dbeta, sdy, sdyxc, gamma,
            invstd, ch.count, M, C, training);
  NK_CHECK_LAUNCH("backward_finalize_kernel");
  if (M == 0) return;
  NK_LAUNCH(backward_dx_kernel, blocks_for(M * C), kThreads, 0, dx, dy, x, mean, k0, k1, k2, M, C);
  NK_CHECK_LAUNCH("backward_dx_kernel");
}

}  // namespace nk::cuda
