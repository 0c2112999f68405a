// lstm.cpp - LSTM forward/backward through time: the naive reference and the fused GEMM path.
// Definitions, layouts and the accumulate/overwrite rules are in lstm.h.
//
// Backward, per step t = T-1 .. 0 and row n (dh = upstream dh_seq[n,t] + carried dh, dc carried):
//   a = act(c_t)
//   dz_o = dh * a * ract'(o)
//   dc  += dh * o * act'(a)            (dc carried from step t+1)
//   dz_i = dc * g * ract'(i)   dz_f = dc * c_{t-1} * ract'(f)   dz_c = dc * i * act'(g)
//   dc_{t-1} = dc * f          dh_{t-1} = dz_t @ recurrent_kernel^T
// Masked (n, t): dz = 0, dh and dc pass through unchanged to step t-1.
// After the loop: dkernel += x^T @ dz, drecurrent_kernel += hprev^T @ dz (hprev_t = h_{t-1}, h0 at
// t = 0), dbias += sum dz, dx = dz @ kernel^T, each one GEMM over all N*T rows.
#include "cpu/lstm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/activation.h"
#include "cpu/gemm.h"

namespace nk {

// ---- activation helpers shared with rnn.cpp -----------------------------------------------------
namespace recurrent {

float act1(int act, float x) {
  switch (static_cast<Act>(act)) {
    case Act::sigmoid: { float e = std::exp(-std::fabs(x)); return x >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e); }
    case Act::tanh: return std::tanh(x);
    case Act::relu: return x > 0.0f ? x : 0.0f;
    default: return x;  // linear
  }
}

float dact1(int act, float y) {
  switch (static_cast<Act>(act)) {
    case Act::sigmoid: return y * (1.0f - y);
    case Act::tanh: return 1.0f - y * y;
    case Act::relu: return y > 0.0f ? 1.0f : 0.0f;  // y > 0 exactly when x > 0
    default: return 1.0f;
  }
}

void act_forward(int act, float* y, const float* x, int64_t n) {
  if (static_cast<Act>(act) == Act::linear) {
    if (y != x) std::memcpy(y, x, sizeof(float) * n);
    return;
  }
  switch (active_isa()) {
    case Isa::avx512: act_avx512::forward(act, y, x, n, 0.0f); break;
    case Isa::avx2: act_avx2::forward(act, y, x, n, 0.0f); break;
    default: act_scalar::forward(act, y, x, n, 0.0f); break;
  }
}

void act_backward(int act, float* dz, const float* dy, const float* y, int64_t n) {
  if (static_cast<Act>(act) == Act::linear) {
    if (dz != dy) std::memcpy(dz, dy, sizeof(float) * n);
    return;
  }
  // relu's derivative reads "x": its sign equals the output's, so y stands in for x.
  switch (active_isa()) {
    case Isa::avx512: act_avx512::backward(act, dz, dy, y, y, n, 0.0f); break;
    case Isa::avx2: act_avx2::backward(act, dz, dy, y, y, n, 0.0f); break;
    default: act_scalar::backward(act, dz, dy, y, y, n, 0.0f); break;
  }
}

void column_sums_acc(float* db, const float* dz, int64_t R, int64_t C) {
  // Each thread owns a block of columns and walks all rows: no reduction buffers, fixed order.
#pragma omp parallel if (R * C >= kParallelGrain)
  {
    int64_t c0, c1;
    thread_range(C, 16, &c0, &c1);
    for (int64_t r = 0; r < R; ++r) {
      const float* row = dz + r * C;
      for (int64_t j = c0; j < c1; ++j) db[j] += row[j];
    }
  }
}

}  // namespace recurrent

void lstm_check_activation(int act, const char* what) {
  Act a = static_cast<Act>(act);
  NK_CHECK(act >= 0 && act < kNumElementwiseActs &&
               (a == Act::tanh || a == Act::sigmoid || a == Act::relu || a == Act::linear),
           what, " must be one of 'tanh', 'sigmoid', 'relu', 'linear' (the backward needs f' from the "
           "output), got '", (act >= 0 && act < (int)activation_table().size() ? activation_table()[act].name : "?"),
           "'");
}

using namespace recurrent;

// ---- naive reference ----------------------------------------------------------------------------
void lstm_forward_naive(float* h_seq, float* h_last, float* c_last, float* gates, float* c_seq,
                        const float* x, const float* h0, const float* c0, const uint8_t* mask,
                        const float* kernel, const float* recurrent_kernel, const float* bias,
                        int64_t N, int64_t T, int64_t F, int64_t U, int act, int ract) {
  const int64_t G = 4 * U;
  std::vector<float> grow(gates ? 0 : G);  // inference: one row of gates, not saved
  for (int64_t n = 0; n < N; ++n) {
    const float* hp = h0 + n * U;  // h_{t-1}, c_{t-1} of this row
    const float* cp = c0 + n * U;
    for (int64_t t = 0; t < T; ++t) {
      const float* xt = x + (n * T + t) * F;
      float* gt = gates ? gates + (n * T + t) * G : grow.data();
      for (int64_t j = 0; j < G; ++j) {
        double z = bias ? bias[j] : 0.0;
        for (int64_t k = 0; k < F; ++k) z += (double)xt[k] * kernel[k * G + j];
        for (int64_t k = 0; k < U; ++k) z += (double)hp[k] * recurrent_kernel[k * G + j];
        bool cand = j >= 2 * U && j < 3 * U;  // the c (candidate) block uses `act`
        gt[j] = act1(cand ? act : ract, (float)z);
      }
      float* ht = h_seq + (n * T + t) * U;
      float* ct = c_seq + (n * T + t) * U;
      bool on = !mask || mask[n * T + t];
      for (int64_t j = 0; j < U; ++j) {
        float i = gt[j], f = gt[U + j], g = gt[2 * U + j], o = gt[3 * U + j];
        ct[j] = on ? f * cp[j] + i * g : cp[j];
        ht[j] = on ? o * act1(act, ct[j]) : hp[j];
      }
      hp = ht;
      cp = ct;
    }
    std::memcpy(h_last + n * U, hp, sizeof(float) * U);
    std::memcpy(c_last + n * U, cp, sizeof(float) * U);
  }
}

void lstm_backward_naive(float* dx, float* dh0, float* dc0, float* dkernel, float* drecurrent_kernel,
                         float* dbias, const float* dh_seq, const float* dh_last, const float* dc_last,
                         const float* gates, const float* c_seq, const float* h_seq, const float* x,
                         const float* h0, const float* c0, const uint8_t* mask, const float* kernel,
                         const float* recurrent_kernel, int64_t N, int64_t T, int64_t F, int64_t U,
                         int act, int ract) {
  const int64_t G = 4 * U;
  std::vector<float> dz(G), dh(U), dc(U), dhp(U);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t j = 0; j < U; ++j) {
      dh[j] = dh_last ? dh_last[n * U + j] : 0.0f;
      dc[j] = dc_last ? dc_last[n * U + j] : 0.0f;
    }
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t r = n * T + t;
      if (dh_seq)
        for (int64_t j = 0; j < U; ++j) dh[j] += dh_seq[r * U + j];
      if (mask && !mask[r]) {  // skipped step: the state (and its gradient) passes through
        if (dx) for (int64_t k = 0; k < F; ++k) dx[r * F + k] = 0.0f;
        continue;
      }
      const float* gt = gates + r * G;
      const float* cprev = t > 0 ? c_seq + (r - 1) * U : c0 + n * U;
      const float* hprev = t > 0 ? h_seq + (r - 1) * U : h0 + n * U;
      for (int64_t j = 0; j < U; ++j) {
        float i = gt[j], f = gt[U + j], g = gt[2 * U + j], o = gt[3 * U + j];
        float a = act1(act, c_seq[r * U + j]);
        float dcj = dc[j] + dh[j] * o * dact1(act, a);
        dz[j] = dcj * g * dact1(ract, i);
        dz[U + j] = dcj * cprev[j] * dact1(ract, f);
        dz[2 * U + j] = dcj * i * dact1(act, g);
        dz[3 * U + j] = dh[j] * a * dact1(ract, o);
        dc[j] = dcj * f;
      }
      for (int64_t k = 0; k < U; ++k) {  // dh_{t-1} = dz @ Wh^T;  dWh += h_{t-1}^T dz
        double s = 0.0;
        for (int64_t j = 0; j < G; ++j) {
          s += (double)dz[j] * recurrent_kernel[k * G + j];
          drecurrent_kernel[k * G + j] += hprev[k] * dz[j];
        }
        dhp[k] = (float)s;
      }
      for (int64_t k = 0; k < F; ++k) {  // dx_t = dz @ W^T;  dW += x_t^T dz
        double s = 0.0;
        for (int64_t j = 0; j < G; ++j) {
          s += (double)dz[j] * kernel[k * G + j];
          dkernel[k * G + j] += x[r * F + k] * dz[j];
        }
        if (dx) dx[r * F + k] = (float)s;
      }
      if (dbias) for (int64_t j = 0; j < G; ++j) dbias[j] += dz[j];
      dh.swap(dhp);
    }
    std::memcpy(dh0 + n * U, dh.data(), sizeof(float) * U);
    std::memcpy(dc0 + n * U, dc.data(), sizeof(float) * U);
  }
}

// ---- fused: GEMMs + one pass per row and step -------------------------------------------------
// Threading: the whole time loop runs inside ONE OpenMP region (a fork per step costs 1-4 us, far
// more when the machine is busy). Thread k owns a block of units [j0, j1) and with it the four gate
// column blocks i, f, g, o of those units: per step it runs its own single-threaded GEMM (nk::gemm
// drops to one thread inside a parallel region) and the gate pass for its units, then one barrier
// publishes h_t to everyone for the next step's GEMM.
// Forward: recurrent_kernel's columns are copied once per call into `whp`, thread-blocked as
// [thread 0: i f g o of its units | thread 1: ...], so each thread's recurrent product is ONE
// contiguous GEMM (N, 4w) = h_{t-1} (N, U) @ whp_k (U, 4w) into its scratch z.
// Backward: thread k computes dz for its units, barrier, then dh_{t-1}[:, j0:j1] = dz_t @ rk[j0:j1]^T
// (its own units again, so the next step's pass only reads what this thread wrote: one barrier).

// Threads for the time loop: blocks of >= 16 units each, and enough work per step to pay a barrier.
static int loop_threads(int64_t N, int64_t U) {
  if (N * U < 4096) return 1;
  int64_t by_units = U / 16;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads(), by_units)));
}

// Thread k's unit block when `nt` threads split U units (16-aligned): the same rule as thread_range.
static void unit_block(int64_t U, int k, int nt, int64_t* j0, int64_t* j1) {
  int64_t blocks = (U + 15) / 16, per = (blocks + nt - 1) / nt;
  *j0 = std::min<int64_t>(per * k * 16, U);
  *j1 = std::min<int64_t>(per * (k + 1) * 16, U);
}

// The cell pass of one row over units [j0, j0 + w), as cpu/lstm_kernels.inc computes it per ISA:
// gates (bias, activations) one pass each, then c and h.
static void cell_forward_scalar(float* gates, float* c, float* h, const float* z, const float* bias,
                                const float* cprev, int64_t U, int64_t j0, int64_t w, int act, int ract) {
  for (int q = 0; q < 4; ++q) {  // gates = activation(z + bias)
    float* gq = gates + q * U + j0;
    const float* zq = z + q * w;
    for (int64_t j = 0; j < w; ++j) gq[j] = zq[j] + (bias ? bias[q * U + j0 + j] : 0.0f);
    act_forward(q == 2 ? act : ract, gq, gq, w);
  }
  const float *i = gates + j0, *f = gates + U + j0, *g = gates + 2 * U + j0, *o = gates + 3 * U + j0;
  float *ct = c + j0, *ht = h + j0;
  for (int64_t j = 0; j < w; ++j) ct[j] = f[j] * cprev[j0 + j] + i[j] * g[j];
  act_forward(act, ht, ct, w);
  for (int64_t j = 0; j < w; ++j) ht[j] *= o[j];
}
using CellForwardFn = void (*)(float*, float*, float*, const float*, const float*, const float*, int64_t,
                               int64_t, int64_t, int, int);

void lstm_forward(float* h_seq, float* h_last, float* c_last, float* gates, float* c_seq, const float* x,
                  const float* h0, const float* c0, const uint8_t* mask, const float* kernel,
                  const float* recurrent_kernel, const float* bias, int64_t N, int64_t T, int64_t F,
                  int64_t U, int act, int ract) {
  const int64_t G = 4 * U;
  if (N == 0 || T == 0 || U == 0) return;
  const int nt = loop_threads(N, U);
  // the cell pass: one fused vector loop per ISA (cpu/lstm_kernels.inc), the plain one above otherwise
  const Isa isa = active_isa();
  const CellForwardFn cell = isa == Isa::avx512 ? lstm_avx512::cell_forward
                             : isa == Isa::avx2 ? lstm_avx2::cell_forward
                                                : cell_forward_scalar;
  // Workspace, once per call: both kernels' columns thread-blocked ([thread 0: i f g o of its units |
  // thread 1: ...], kernel rows first, then recurrent_kernel rows) and one z scratch (N, 4w) per thread.
  std::vector<float> wp((F + U) * G);
  int64_t wmax = 0;
  for (int k = 0; k < nt; ++k) {
    int64_t j0, j1;
    unit_block(U, k, nt, &j0, &j1);
    const int64_t w = j1 - j0;
    wmax = std::max(wmax, w);
    for (int64_t r = 0; r < F + U; ++r) {
      const float* src = r < F ? kernel + r * G : recurrent_kernel + (r - F) * G;
      for (int q = 0; q < 4; ++q)
        std::memcpy(wp.data() + r * G + 4 * j0 + q * w, src + q * U + j0, sizeof(float) * w);
    }
  }
  std::vector<float> zbuf(static_cast<size_t>(nt) * N * 4 * wmax);
  // Inference (gates == null): nothing is saved for a backward; each thread's cell pass writes the
  // row's activated gates into its own 4U scratch instead of the (N, T, 4U) tensor (no 4U*N*T stores).
  std::vector<float> gscr(gates ? 0 : static_cast<size_t>(nt) * G);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int k = nt > 1 ? thread_id() : 0;
    int64_t j0, j1;
    unit_block(U, k, nt, &j0, &j1);
    const int64_t w = j1 - j0;
    float* zk = zbuf.data() + static_cast<size_t>(k) * N * 4 * wmax;
    for (int64_t t = 0; t < T; ++t) {  // every thread reaches every barrier, even with no units (w = 0)
      // z (N, 4w) = x_t (rows T*F apart) @ kernel_k + h_{t-1} (h0, or h_seq's step t-1 rows) @ recurrent_k:
      // the input projection is done step by step so z stays in cache for the cell pass
      const float* hp = t > 0 ? h_seq + (t - 1) * U : h0;
      const int64_t ldh = t > 0 ? T * U : U;
      if (w > 0) {
        gemm(zk, x + t * F, wp.data() + 4 * j0, N, 4 * w, F, false, false, 1.0f, 0.0f, T * F, G, 4 * w);
        gemm(zk, hp, wp.data() + F * G + 4 * j0, N, 4 * w, U, false, false, 1.0f, 1.0f, ldh, G, 4 * w);
      }
      for (int64_t n = 0; n < N && w > 0; ++n) {
        const int64_t r = n * T + t;
        const float* cp = t > 0 ? c_seq + (r - 1) * U : c0 + n * U;
        const float* hpr = t > 0 ? h_seq + (r - 1) * U : h0 + n * U;
        float* ct = c_seq + r * U;
        float* ht = h_seq + r * U;
        float* gr = gates ? gates + r * G : gscr.data() + static_cast<size_t>(k) * G;
        cell(gr, ct, ht, zk + n * 4 * w, bias, cp, U, j0, w, act, ract);
        if (mask && !mask[r]) {  // skipped step: carry the state through
          std::memcpy(ct + j0, cp + j0, sizeof(float) * w);
          std::memcpy(ht + j0, hpr + j0, sizeof(float) * w);
        }
      }
#pragma omp barrier
    }
  }
  for (int64_t n = 0; n < N; ++n) {
    std::memcpy(h_last + n * U, h_seq + (n * T + T - 1) * U, sizeof(float) * U);
    std::memcpy(c_last + n * U, c_seq + (n * T + T - 1) * U, sizeof(float) * U);
  }
}

void lstm_backward(float* dx, float* dh0, float* dc0, float* dkernel, float* drecurrent_kernel, float* dbias,
                   const float* dh_seq, const float* dh_last, const float* dc_last, const float* gates,
                   const float* c_seq, const float* h_seq, const float* x, const float* h0, const float* c0,
                   const uint8_t* mask, const float* kernel, const float* recurrent_kernel, int64_t N,
                   int64_t T, int64_t F, int64_t U, int act, int ract) {
  const int64_t G = 4 * U;
  if (N == 0 || U == 0) return;
  // Workspace, allocated once per call (nothing inside the time loop):
  //   dz (N, T, 4U) gate pre-activation gradients; hprev (N, T, U) = h_{t-1}
  std::vector<float> dz(N * T * G), hprev(N * T * U);
  // dh / dc carried between steps (in the dh0 / dc0 outputs), starting from the final-state gradients
  float* dh = dh0;
  float* dc = dc0;
  for (int64_t j = 0; j < N * U; ++j) {
    dh[j] = dh_last ? dh_last[j] : 0.0f;
    dc[j] = dc_last ? dc_last[j] : 0.0f;
  }
  const int nt = loop_threads(N, U);
  std::vector<float> scratch(static_cast<size_t>(nt) * 2 * U);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int k = nt > 1 ? thread_id() : 0;
    int64_t j0, j1;
    unit_block(U, k, nt, &j0, &j1);
    const int64_t w = j1 - j0;
    float* a = scratch.data() + static_cast<size_t>(k) * 2 * U;  // act(c_t) of the own units
    float* tmp = a + U;
    for (int64_t t = T - 1; t >= 0; --t) {
      for (int64_t n = 0; n < N && w > 0; ++n) {
        const int64_t r = n * T + t;
        float* dhn = dh + n * U + j0;
        float* dcn = dc + n * U + j0;
        float* dzr = dz.data() + r * G;
        if (dh_seq)
          for (int64_t j = 0; j < w; ++j) dhn[j] += dh_seq[r * U + j0 + j];
        if (mask && !mask[r]) {
          for (int q = 0; q < 4; ++q) std::memset(dzr + q * U + j0, 0, sizeof(float) * w);
          continue;
        }
        const float* z = gates + r * G;
        const float *i = z + j0, *f = z + U + j0, *g = z + 2 * U + j0, *o = z + 3 * U + j0;
        const float* cp = (t > 0 ? c_seq + (r - 1) * U : c0 + n * U) + j0;
        float *dzi = dzr + j0, *dzf = dzr + U + j0, *dzg = dzr + 2 * U + j0, *dzo = dzr + 3 * U + j0;
        act_forward(act, a, c_seq + r * U + j0, w);
        for (int64_t j = 0; j < w; ++j) tmp[j] = dhn[j] * o[j];
        act_backward(act, tmp, tmp, a, w);                    // dh * o * act'(c)
        for (int64_t j = 0; j < w; ++j) {
          const float dcj = dcn[j] + tmp[j];
          dzi[j] = dcj * g[j];
          dzf[j] = dcj * cp[j];
          dzg[j] = dcj * i[j];
          dzo[j] = dhn[j] * a[j];
          dcn[j] = dcj * f[j];                               // dc_{t-1}
        }
        act_backward(ract, dzi, dzi, i, w);
        act_backward(ract, dzf, dzf, f, w);
        act_backward(act, dzg, dzg, g, w);
        act_backward(ract, dzo, dzo, o, w);
        if (mask) std::memset(dhn, 0, sizeof(float) * w);  // the GEMM below adds into active rows
      }
#pragma omp barrier
      // dh_{t-1}[:, j0:j1] = dz_t (N, 4U) @ recurrent_kernel[j0:j1, :]^T  (masked rows: dz = 0 and
      // beta = 1 keeps the dh passing through)
      if (w > 0)
        gemm(dh + j0, dz.data() + t * G, recurrent_kernel + j0 * G, N, w, G, false, true, 1.0f,
             mask ? 1.0f : 0.0f, T * G, G, U);
    }
  }
  // hprev rows: h0 at t = 0, h_{t-1} otherwise
  for (int64_t n = 0; n < N; ++n) {
    std::memcpy(hprev.data() + n * T * U, h0 + n * U, sizeof(float) * U);
    if (T > 1) std::memcpy(hprev.data() + (n * T + 1) * U, h_seq + n * T * U, sizeof(float) * (T - 1) * U);
  }
  const int64_t R = N * T;
  gemm(dkernel, x, dz.data(), F, G, R, true, false, 1.0f, 1.0f, F, G, G);
  gemm(drecurrent_kernel, hprev.data(), dz.data(), U, G, R, true, false, 1.0f, 1.0f, U, G, G);
  if (dbias) column_sums_acc(dbias, dz.data(), R, G);
  if (dx) gemm(dx, dz.data(), kernel, R, F, G, false, true, 1.0f, 0.0f, G, G, F);
}

const std::vector<LstmVariant>& lstm_variants() {
  static const std::vector<LstmVariant> table = {
      {"naive", "plain loops, one dot product per gate column and step (reference)", lstm_forward_naive,
       lstm_backward_naive},
      {"fused", "input projection GEMM + per-step recurrent GEMM + fused vector gate pass; merged weight "
                "GEMMs in backward", lstm_forward, lstm_backward},
  };
  return table;
}

const LstmVariant& lstm_find_variant(const char* name) {
  std::string known;
  for (const auto& v : lstm_variants()) {
    if (std::string(name) == v.name) return v;
    known += (known.empty() ? "" : ", ") + std::string(v.name);
  }
  throw std::invalid_argument(msg("unknown lstm variant '", name, "': choose one of auto, ", known));
}

}  // namespace nk
