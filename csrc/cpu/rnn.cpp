// rnn.cpp - SimpleRNN forward/backward through time: naive reference and the fused GEMM path.
// Definitions, layouts and the accumulate/overwrite rules are in rnn.h; the activation helpers are
// shared with the LSTM (cpu/lstm.h, namespace recurrent).
#include "cpu/rnn.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/gemm.h"
#include "cpu/lstm.h"

namespace nk {

using namespace recurrent;

// ---- naive reference ----------------------------------------------------------------------------
void rnn_forward_naive(float* h_seq, float* h_last, const float* x, const float* h0, const uint8_t* mask,
                       const float* kernel, const float* recurrent_kernel, const float* bias, int64_t N,
                       int64_t T, int64_t F, int64_t U, int act) {
  for (int64_t n = 0; n < N; ++n) {
    const float* hp = h0 + n * U;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t r = n * T + t;
      float* ht = h_seq + r * U;
      bool on = !mask || mask[r];
      for (int64_t j = 0; j < U; ++j) {
        double z = bias ? bias[j] : 0.0;
        for (int64_t k = 0; k < F; ++k) z += (double)x[r * F + k] * kernel[k * U + j];
        for (int64_t k = 0; k < U; ++k) z += (double)hp[k] * recurrent_kernel[k * U + j];
        ht[j] = on ? act1(act, (float)z) : hp[j];
      }
      hp = ht;
    }
    std::memcpy(h_last + n * U, hp, sizeof(float) * U);
  }
}

void rnn_backward_naive(float* dx, float* dh0, float* dkernel, float* drecurrent_kernel, float* dbias,
                        const float* dh_seq, const float* dh_last, const float* h_seq, const float* x,
                        const float* h0, const uint8_t* mask, const float* kernel,
                        const float* recurrent_kernel, int64_t N, int64_t T, int64_t F, int64_t U, int act) {
  std::vector<float> dz(U), dh(U);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t j = 0; j < U; ++j) dh[j] = dh_last ? dh_last[n * U + j] : 0.0f;
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t r = n * T + t;
      if (dh_seq)
        for (int64_t j = 0; j < U; ++j) dh[j] += dh_seq[r * U + j];
      if (mask && !mask[r]) {
        if (dx) for (int64_t k = 0; k < F; ++k) dx[r * F + k] = 0.0f;
        continue;
      }
      const float* hprev = t > 0 ? h_seq + (r - 1) * U : h0 + n * U;
      for (int64_t j = 0; j < U; ++j) dz[j] = dh[j] * dact1(act, h_seq[r * U + j]);
      for (int64_t k = 0; k < U; ++k) {
        double s = 0.0;
        for (int64_t j = 0; j < U; ++j) {
          s += (double)dz[j] * recurrent_kernel[k * U + j];
          drecurrent_kernel[k * U + j] += hprev[k] * dz[j];
        }
        dh[k] = (float)s;  // dz is a separate buffer, so dh can be overwritten row by row
      }
      for (int64_t k = 0; k < F; ++k) {
        double s = 0.0;
        for (int64_t j = 0; j < U; ++j) {
          s += (double)dz[j] * kernel[k * U + j];
          dkernel[k * U + j] += x[r * F + k] * dz[j];
        }
        if (dx) dx[r * F + k] = (float)s;
      }
      if (dbias) for (int64_t j = 0; j < U; ++j) dbias[j] += dz[j];
    }
    std::memcpy(dh0 + n * U, dh.data(), sizeof(float) * U);
  }
}

// ---- fused ----------------------------------------------------------------------------------------
// Threading as the LSTM (lstm.cpp): one OpenMP region around the time loop; thread k owns units
// [j0, j1), runs its own single-threaded GEMM for those columns and one barrier per step.
static int loop_threads(int64_t N, int64_t U) {
  if (N * U < 8192) return 1;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads(), U / 16)));
}

static void unit_block(int64_t U, int k, int nt, int64_t* j0, int64_t* j1) {
  int64_t blocks = (U + 15) / 16, per = (blocks + nt - 1) / nt;
  *j0 = std::min<int64_t>(per * k * 16, U);
  *j1 = std::min<int64_t>(per * (k + 1) * 16, U);
}

void rnn_forward(float* h_seq, float* h_last, const float* x, const float* h0, const uint8_t* mask,
                 const float* kernel, const float* recurrent_kernel, const float* bias, int64_t N, int64_t T,
                 int64_t F, int64_t U, int act) {
  if (N == 0 || T == 0 || U == 0) return;
  // Pre-activations of every (n, t) row: h_seq = x (N*T, F) @ kernel (F, U); activated step by step.
  gemm(h_seq, x, kernel, N * T, U, F, false, false, 1.0f, 0.0f, F, U, U);
  const int nt = loop_threads(N, U);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t j0, j1;
    unit_block(U, nt > 1 ? thread_id() : 0, nt, &j0, &j1);
    const int64_t w = j1 - j0;
    for (int64_t t = 0; t < T; ++t) {
      const float* hp = t > 0 ? h_seq + (t - 1) * U : h0;
      const int64_t ldh = t > 0 ? T * U : U;
      // h_seq[:, t, j0:j1] += h_{t-1} @ recurrent_kernel[:, j0:j1]
      if (w > 0) gemm(h_seq + t * U + j0, hp, recurrent_kernel + j0, N, w, U, false, false, 1.0f, 1.0f, ldh, U, T * U);
      for (int64_t n = 0; n < N && w > 0; ++n) {
        const int64_t r = n * T + t;
        float* z = h_seq + r * U + j0;
        if (mask && !mask[r]) {  // skipped step: carry h_{t-1}
          std::memcpy(z, (t > 0 ? z - U : h0 + n * U + j0), sizeof(float) * w);
          continue;
        }
        if (bias)
          for (int64_t j = 0; j < w; ++j) z[j] += bias[j0 + j];
        act_forward(act, z, z, w);
      }
#pragma omp barrier
    }
  }
  for (int64_t n = 0; n < N; ++n)
    std::memcpy(h_last + n * U, h_seq + (n * T + T - 1) * U, sizeof(float) * U);
}

void rnn_backward(float* dx, float* dh0, float* dkernel, float* drecurrent_kernel, float* dbias,
                  const float* dh_seq, const float* dh_last, const float* h_seq, const float* x, const float* h0,
                  const uint8_t* mask, const float* kernel, const float* recurrent_kernel, int64_t N, int64_t T,
                  int64_t F, int64_t U, int act) {
  if (N == 0 || U == 0) return;
  std::vector<float> dz(N * T * U), hprev(N * T * U);  // workspace, once per call
  float* dh = dh0;  // carried dh, ends as dh0
  for (int64_t j = 0; j < N * U; ++j) dh[j] = dh_last ? dh_last[j] : 0.0f;
  const int nt = loop_threads(N, U);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t j0, j1;
    unit_block(U, nt > 1 ? thread_id() : 0, nt, &j0, &j1);
    const int64_t w = j1 - j0;
    for (int64_t t = T - 1; t >= 0; --t) {
      for (int64_t n = 0; n < N && w > 0; ++n) {
        const int64_t r = n * T + t;
        float* dhn = dh + n * U + j0;
        float* dzr = dz.data() + r * U + j0;
        if (dh_seq)
          for (int64_t j = 0; j < w; ++j) dhn[j] += dh_seq[r * U + j0 + j];
        if (mask && !mask[r]) {
          std::memset(dzr, 0, sizeof(float) * w);
          continue;
        }
        act_backward(act, dzr, dhn, h_seq + r * U + j0, w);
        if (mask) std::memset(dhn, 0, sizeof(float) * w);  // the GEMM below adds into active rows
      }
#pragma omp barrier
      // dh_{t-1}[:, j0:j1] = dz_t @ recurrent_kernel[j0:j1, :]^T
      if (w > 0)
        gemm(dh + j0, dz.data() + t * U, recurrent_kernel + j0 * U, N, w, U, false, true, 1.0f, mask ? 1.0f : 0.0f,
             T * U, U, U);
    }
  }
  for (int64_t n = 0; n < N; ++n) {
    std::memcpy(hprev.data() + n * T * U, h0 + n * U, sizeof(float) * U);
    if (T > 1) std::memcpy(hprev.data() + (n * T + 1) * U, h_seq + n * T * U, sizeof(float) * (T - 1) * U);
  }
  const int64_t R = N * T;
  gemm(dkernel, x, dz.data(), F, U, R, true, false, 1.0f, 1.0f, F, U, U);
  gemm(drecurrent_kernel, hprev.data(), dz.data(), U, U, R, true, false, 1.0f, 1.0f, U, U, U);
  if (dbias) column_sums_acc(dbias, dz.data(), R, U);
  if (dx) gemm(dx, dz.data(), kernel, R, F, U, false, true, 1.0f, 0.0f, U, U, F);
}

const std::vector<RnnVariant>& rnn_variants() {
  static const std::vector<RnnVariant> table = {
      {"naive", "plain loops per step and row (reference)", rnn_forward_naive, rnn_backward_naive},
      {"fused", "input projection GEMM + per-step recurrent GEMM + vector activation pass; merged weight "
                "GEMMs in backward", rnn_forward, rnn_backward},
  };
  return table;
}

const RnnVariant& rnn_find_variant(const char* name) {
  std::string known;
  for (const auto& v : rnn_variants()) {
    if (std::string(name) == v.name) return v;
    known += (known.empty() ? "" : ", ") + std::string(v.name);
  }
  throw std::invalid_argument(msg("unknown rnn variant '", name, "': choose one of auto, ", known));
}

}  // namespace nk
