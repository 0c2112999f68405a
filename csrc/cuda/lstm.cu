// lstm.cu - LSTM forward / backward through time on the GPU. Definitions, layouts, variants and the
// accumulate / overwrite rules are in lstm.h; the activations are in recurrent_common.h.
//
// Schedule (both variants; they differ only in who multiplies matrices: `fused` calls
// nk::cuda::gemm, `naive` a plain one-thread-per-element loop, so `naive` checks the schedule and
// the cells independently of gemm.cu):
//   forward:  gates (N*T, 4U) = x (N*T, F) @ kernel              one product for the whole sequence
//             per t: gates[:, t] += h_{t-1} @ recurrent_kernel   (rows n*T + t: row stride T*4U)
//                    lstm_cell_forward_kernel: + bias, activations, c_t, h_t (mask: carry)
//   backward: dh0 / dc0 hold the carried dh / dc (start: dh_last / dc_last or 0); per t = T-1 .. 0:
//               lstm_cell_backward_kernel (one thread per (n, j)):
//                 dh = carried dh + dh_seq[n, t]      (also saved in dh_total for masked rows)
//                 a = act(c_t)
//                 dz_o = dh * a * ract'(o)
//                 dc  += dh * o * act'(a)
//                 dz_i = dc * g * ract'(i)   dz_f = dc * c_{t-1} * ract'(f)   dz_c = dc * i * act'(g)
//                 dc_{t-1} = dc * f
//               dh_{t-1} = dz_t @ recurrent_kernel^T   (a masked row has dz = 0 and gets dh_total)
//             then over all N*T rows at once: dkernel += x^T @ dz, drecurrent_kernel += hprev^T @ dz
//             (hprev row (n, t) = h_{t-1}), dbias += column sums of dz, dx = dz @ kernel^T.
#include "cuda/lstm.h"

#include <string>

#include "core/errors.h"
#include "cuda/compat.h"
#include "cuda/conv.h"  // column_sums_acc
#include "cuda/gemm.h"
#include "cuda/recurrent_common.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kBlock = 256;
int blocks_for(int64_t n) { return static_cast<int>((n + kBlock - 1) / kBlock); }

using recurrent::act1;
using recurrent::dact1;

// ---- the cells ------------------------------------------------------------------------------------

// One thread per (n, j), step t. z (= gates row (n, t)) holds x_t @ kernel + h_{t-1} @ recurrent_kernel;
// the thread overwrites its four gate columns with the activated i, f, g, o and writes c_t, h_t.
__global__ void lstm_cell_forward_kernel(float* __restrict__ gates,        // (N, T, 4U) in: z, out: gates
                                         float* __restrict__ c_seq,        // (N, T, U)
                                         float* __restrict__ h_seq,        // (N, T, U)
                                         const float* __restrict__ c0,     // (N, U)
                                         const float* __restrict__ h0,     // (N, U)
                                         const float* __restrict__ bias,   // (4U) or null
                                         const uint8_t* __restrict__ mask, // (N, T) or null
                                         int N, int T, int U, int t, int act, int ract) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * U) return;
  const int n = idx / U, j = idx % U, r = n * T + t;
  float* z = gates + static_cast<int64_t>(r) * 4 * U;
  const float i = act1(ract, z[j] + (bias ? bias[j] : 0.0f));
  const float f = act1(ract, z[U + j] + (bias ? bias[U + j] : 0.0f));
  const float g = act1(act, z[2 * U + j] + (bias ? bias[2 * U + j] : 0.0f));
  const float o = act1(ract, z[3 * U + j] + (bias ? bias[3 * U + j] : 0.0f));
  z[j] = i; z[U + j] = f; z[2 * U + j] = g; z[3 * U + j] = o;
  const float cp = t > 0 ? c_seq[(r - 1) * U + j] : c0[n * U + j];
  const float hp = t > 0 ? h_seq[(r - 1) * U + j] : h0[n * U + j];
  const bool on = !mask || mask[r];
  const float c = on ? f * cp + i * g : cp;  // a masked step carries the state through
  c_seq[r * U + j] = c;
  h_seq[r * U + j] = on ? o * act1(act, c) : hp;
}

// One thread per (n, j), step t: the dz of the four gates (formulas in the file header). dh (N, U)
// holds the dh carried from step t+1 and dc (N, U) the carried dc, updated in place to dc_{t-1}.
__global__ void lstm_cell_backward_kernel(float* __restrict__ dz,            // (N, T, 4U)
                                          float* __restrict__ dh_total,      // (N, U) out: dh at step t
                                          float* __restrict__ dc,            // (N, U) in/out
                                          const float* __restrict__ dh,      // (N, U) carried dh
                                          const float* __restrict__ dh_seq,  // (N, T, U) or null
                                          const float* __restrict__ gates,   // (N, T, 4U)
                                          const float* __restrict__ c_seq,   // (N, T, U)
                                          const float* __restrict__ c0,      // (N, U)
                                          const uint8_t* __restrict__ mask,  // (N, T) or null
                                          int N, int T, int U, int t, int act, int ract) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * U) return;
  const int n = idx / U, j = idx % U, r = n * T + t;
  const float dhj = dh[idx] + (dh_seq ? dh_seq[r * U + j] : 0.0f);
  dh_total[idx] = dhj;
  float* dzr = dz + static_cast<int64_t>(r) * 4 * U;
  if (mask && !mask[r]) {  // skipped step: no gate gradient, dh and dc pass through to step t-1
    dzr[j] = dzr[U + j] = dzr[2 * U + j] = dzr[3 * U + j] = 0.0f;
    return;
  }
  const float* gr = gates + static_cast<int64_t>(r) * 4 * U;
  const float i = gr[j], f = gr[U + j], g = gr[2 * U + j], o = gr[3 * U + j];
  const float cprev = t > 0 ? c_seq[(r - 1) * U + j] : c0[n * U + j];
  const float a = act1(act, c_seq[r * U + j]);
  const float dcj = dc[idx] + dhj * o * dact1(act, a);
  dzr[j] = dcj * g * dact1(ract, i);
  dzr[U + j] = dcj * cprev * dact1(ract, f);
  dzr[2 * U + j] = dcj * i * dact1(act, g);
  dzr[3 * U + j] = dhj * a * dact1(ract, o);
  dc[idx] = dcj * f;
}

// ---- small helpers (also used by rnn.cu through lstm.h) ------------------------------------------

// The plain matrix product behind the `naive` variant: one thread per C element, C = A op(B)
// (+= C). A is (M, K) with row stride lda, or stored (K, M) when trans_a; likewise B (K, N) / (N, K).
__global__ void matmul_naive_kernel(float* __restrict__ C, const float* __restrict__ A,
                                    const float* __restrict__ B, int M, int N, int K, bool trans_a,
                                    bool trans_b, bool accumulate, int lda, int ldb, int ldc) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= M * N) return;
  const int m = idx / N, n = idx % N;
  float s = 0.0f;
  for (int k = 0; k < K; ++k) {
    const float a = trans_a ? A[static_cast<int64_t>(k) * lda + m] : A[static_cast<int64_t>(m) * lda + k];
    const float b = trans_b ? B[static_cast<int64_t>(n) * ldb + k] : B[static_cast<int64_t>(k) * ldb + n];
    s = fmaf(a, b, s);
  }
  float* c = C + static_cast<int64_t>(m) * ldc + n;
  *c = accumulate ? *c + s : s;
}

__global__ void shift_prev_rows_kernel(float* __restrict__ hprev, const float* __restrict__ h_seq,
                                       const float* __restrict__ h0, int N, int T, int U) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * T * U) return;
  const int j = idx % U, r = idx / U, t = r % T, n = r / T;
  hprev[idx] = t > 0 ? h_seq[(r - 1) * U + j] : h0[n * U + j];
}

__global__ void carry_masked_rows_kernel(float* __restrict__ dh, const float* __restrict__ dh_total,
                                         const uint8_t* __restrict__ mask, int N, int T, int U, int t) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * U) return;
  if (!mask[(idx / U) * T + t]) dh[idx] = dh_total[idx];
}

// out (N, U) = seq[:, t, :] of a (N, T, U) sequence (h_last, c_last).
__global__ void take_step_kernel(float* __restrict__ out, const float* __restrict__ seq, int N, int T, int U,
                                 int t) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * U) return;
  out[idx] = seq[((idx / U) * T + t) * U + idx % U];
}

template <class M>
__global__ void mask_to_bytes_kernel(uint8_t* __restrict__ out, const M* __restrict__ mask, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = mask[i] != M(0) ? 1 : 0;
}

}  // namespace

// ---- recurrent helpers ------------------------------------------------------------------------------
namespace recurrent {

bool use_fused(const char* family, const char* variant) {
  const std::string v(variant);
  if (v == "auto" || v == "fused") return true;
  if (v == "naive") return false;
  throw std::invalid_argument(msg("unknown ", family, " variant '", v, "': choose one of auto, naive, fused"));
}

void check_int32(const char* op, std::initializer_list<int64_t> sizes) {
  for (int64_t n : sizes)
    NK_CHECK(n < (int64_t{1} << 31), op, ": tensors of 2^31 or more elements are not supported by the "
             "CUDA kernels (32-bit indexing); split the batch");
}

void mask_to_bytes(uint8_t* out, const void* mask, int dtype_code, int64_t n) {
  if (n == 0) return;
  const int ni = static_cast<int>(n);
  switch (dtype_code) {
    case 0: NK_LAUNCH(mask_to_bytes_kernel<float>, blocks_for(n), kBlock, 0, out, static_cast<const float*>(mask), ni); break;
    case 1: NK_LAUNCH(mask_to_bytes_kernel<int32_t>, blocks_for(n), kBlock, 0, out, static_cast<const int32_t*>(mask), ni); break;
    case 2: NK_LAUNCH(mask_to_bytes_kernel<int64_t>, blocks_for(n), kBlock, 0, out, static_cast<const int64_t*>(mask), ni); break;
    default: throw std::invalid_argument(msg("mask_to_bytes: unsupported dtype code ", dtype_code));
  }
  NK_CHECK_LAUNCH("mask_to_bytes_kernel");
}

void mm(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K, bool trans_a, bool trans_b,
        bool accumulate, int64_t lda, int64_t ldb, int64_t ldc, bool naive) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // the empty sum: C unchanged, or zero
    if (!accumulate) {
      if (ldc == N) memset_zero(C, sizeof(float) * M * N);
      else for (int64_t m = 0; m < M; ++m) memset_zero(C + m * ldc, sizeof(float) * N);
    }
    return;
  }
  if (!naive) {
    gemm(C, A, B, M, N, K, trans_a, trans_b, 1.0f, accumulate ? 1.0f : 0.0f, lda, ldb, ldc);
    return;
  }
  NK_LAUNCH(matmul_naive_kernel, blocks_for(M * N), kBlock, 0, C, A, B, static_cast<int>(M),
            static_cast<int>(N), static_cast<int>(K), trans_a, trans_b, accumulate, static_cast<int>(lda),
            static_cast<int>(ldb), static_cast<int>(ldc));
  NK_CHECK_LAUNCH("matmul_naive_kernel");
}

void shift_prev_rows(float* hprev, const float* h_seq, const float* h0, int64_t N, int64_t T, int64_t U) {
  if (N * T * U == 0) return;
  NK_LAUNCH(shift_prev_rows_kernel, blocks_for(N * T * U), kBlock, 0, hprev, h_seq, h0, static_cast<int>(N),
            static_cast<int>(T), static_cast<int>(U));
  NK_CHECK_LAUNCH("shift_prev_rows_kernel");
}

void carry_masked_rows(float* dh, const float* dh_total, const uint8_t* mask, int64_t N, int64_t T, int64_t U,
                       int64_t t) {
  if (N * U == 0) return;
  NK_LAUNCH(carry_masked_rows_kernel, blocks_for(N * U), kBlock, 0, dh, dh_total, mask, static_cast<int>(N),
            static_cast<int>(T), static_cast<int>(U), static_cast<int>(t));
  NK_CHECK_LAUNCH("carry_masked_rows_kernel");
}

void take_last_step(float* out, const float* seq, int64_t N, int64_t T, int64_t U) {
  if (N * T * U == 0) return;
  NK_LAUNCH(take_step_kernel, blocks_for(N * U), kBlock, 0, out, seq, static_cast<int>(N), static_cast<int>(T),
            static_cast<int>(U), static_cast<int>(T - 1));
  NK_CHECK_LAUNCH("take_step_kernel");
}

void init_state(float* dst, const float* src, int64_t count) {
  if (count == 0) return;
  if (src) memcpy_d2d(dst, src, sizeof(float) * count);
  else memset_zero(dst, sizeof(float) * count);
}

}  // namespace recurrent

using recurrent::mm;

const std::vector<RecurrentVariantInfo>& lstm_variants() {
  static const std::vector<RecurrentVariantInfo> table = {
      {"naive", "the fused schedule with every matrix product as a plain one-thread-per-element loop "
                "(the reference)"},
      {"fused", "input projection as one GEMM, one recurrent GEMM and one fused cell kernel per step; "
                "backward: fused dz kernel + one GEMM per step, weight gradients as GEMMs over N*T rows"},
  };
  return table;
}

void lstm_forward(float* h_seq, float* h_last, float* c_last, float* gates, float* c_seq, const float* x,
                  const float* h0, const float* c0, const uint8_t* mask, const float* kernel,
                  const float* recurrent_kernel, const float* bias, int64_t N, int64_t T, int64_t F, int64_t U,
                  RecurrentAct act, RecurrentAct ract, const char* variant) {
  const bool naive = !recurrent::use_fused("lstm", variant);
  recurrent::check_int32("lstm", {N * T * 4 * U, N * T * F, F * 4 * U, U * 4 * U});
  if (N == 0 || T == 0 || U == 0) return;
  const int64_t G = 4 * U;
  // pre-activations of every (n, t) row: the input half of z for the whole sequence
  mm(gates, x, kernel, N * T, G, F, false, false, false, F, G, G, naive);
  for (int64_t t = 0; t < T; ++t) {
    const float* hp = t > 0 ? h_seq + (t - 1) * U : h0;  // h_{t-1}: row stride T*U in h_seq, U in h0
    mm(gates + t * G, hp, recurrent_kernel, N, G, U, false, false, true, t > 0 ? T * U : U, G, T * G, naive);
    NK_LAUNCH(lstm_cell_forward_kernel, blocks_for(N * U), kBlock, 0, gates, c_seq, h_seq, c0, h0, bias, mask,
              static_cast<int>(N), static_cast<int>(T), static_cast<int>(U), static_cast<int>(t),
              static_cast<int>(act), static_cast<int>(ract));
    NK_CHECK_LAUNCH("lstm_cell_forward_kernel");
  }
  recurrent::take_last_step(h_last, h_seq, N, T, U);
  recurrent::take_last_step(c_last, c_seq, N, T, U);
}

void lstm_backward(float* dx, float* dh0, float* dc0, float* dkernel, float* drecurrent_kernel, float* dbias,
                   const float* dh_seq, const float* dh_last, const float* dc_last, const float* gates,
                   const float* c_seq, const float* h_seq, const float* x, const float* h0, const float* c0,
                   const uint8_t* mask, const float* kernel, const float* recurrent_kernel, int64_t N, int64_t T,
                   int64_t F, int64_t U, RecurrentAct act, RecurrentAct ract, const char* variant) {
  const bool naive = !recurrent::use_fused("lstm", variant);
  recurrent::check_int32("lstm", {N * T * 4 * U, N * T * F, F * 4 * U, U * 4 * U});
  const int64_t G = 4 * U;
  if (N == 0 || T == 0 || U == 0) return;  // nothing to add; dh0, dc0 (and dx) are empty
  // dh0 / dc0 carry dh and dc backwards through the steps and end as the initial-state gradients
  recurrent::init_state(dh0, dh_last, N * U);
  recurrent::init_state(dc0, dc_last, N * U);
  recurrent::Scratch dz(static_cast<size_t>(N * T * G)), dh_total(static_cast<size_t>(N * U)),
      hprev(static_cast<size_t>(N * T * U));
  for (int64_t t = T - 1; t >= 0; --t) {
    NK_LAUNCH(lstm_cell_backward_kernel, blocks_for(N * U), kBlock, 0, dz.p, dh_total.p, dc0, dh0, dh_seq, gates,
              c_seq, c0, mask, static_cast<int>(N), static_cast<int>(T), static_cast<int>(U), static_cast<int>(t),
              static_cast<int>(act), static_cast<int>(ract));
    NK_CHECK_LAUNCH("lstm_cell_backward_kernel");
    // dh_{t-1} = dz_t (N, 4U; row stride T*4U) @ recurrent_kernel^T (4U, U)
    mm(dh0, dz.p + t * G, recurrent_kernel, N, U, G, false, true, false, T * G, G, U, naive);
    if (mask) recurrent::carry_masked_rows(dh0, dh_total.p, mask, N, T, U, t);
  }
  // the parameter gradients and dx over all N*T rows at once
  mm(dkernel, x, dz.p, F, G, N * T, true, false, true, F, G, G, naive);
  recurrent::shift_prev_rows(hprev.p, h_seq, h0, N, T, U);
  mm(drecurrent_kernel, hprev.p, dz.p, U, G, N * T, true, false, true, U, G, G, naive);
  if (dbias) column_sums_acc(dbias, dz.p, N * T, G);
  if (dx) mm(dx, dz.p, kernel, N * T, F, G, false, true, false, G, G, F, naive);
}

}  // namespace nk::cuda
