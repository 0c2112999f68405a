// rnn.cu - SimpleRNN forward / backward through time on the GPU. Definitions, layouts and the
// accumulate / overwrite rules are in rnn.h; the schedule is the LSTM's (lstm.cu) with one gate:
//   forward:  h_seq (N*T, U) = x (N*T, F) @ kernel           pre-activations of every step, in place
//             per t: h_seq[:, t] += h_{t-1} @ recurrent_kernel   (row stride T*U)
//                    rnn_cell_forward_kernel: h_t = act(z + bias) (masked: h_{t-1})
//   backward: dh0 carries dh (start: dh_last or 0); per t = T-1 .. 0:
//               rnn_cell_backward_kernel: dh = carried + dh_seq[:, t]; dz_t = dh * act'(h_t)
//               dh_{t-1} = dz_t @ recurrent_kernel^T     (masked rows: dz = 0, dh passes through)
//             then dkernel += x^T dz, drecurrent_kernel += hprev^T dz, dbias += sum dz,
//             dx = dz @ kernel^T over all N*T rows.
#include "cuda/rnn.h"

#include "core/errors.h"
#include "cuda/compat.h"
#include "cuda/conv.h"  // column_sums_acc
#include "cuda/recurrent_common.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kBlock = 256;
int blocks_for(int64_t n) { return static_cast<int>((n + kBlock - 1) / kBlock); }

using recurrent::act1;
using recurrent::dact1;
using recurrent::mm;

// One thread per (n, j), step t: h_seq row (n, t) holds z without the bias; replace it by h_t.
__global__ void rnn_cell_forward_kernel(float* __restrict__ h_seq,        // (N, T, U) in: z, out: h
                                        const float* __restrict__ h0,     // (N, U)
                                        const float* __restrict__ bias,   // (U) or null
                                        const uint8_t* __restrict__ mask, // (N, T) or null
                                        int N, int T, int U, int t, int act) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * U) return;
  const int n = idx / U, j = idx % U, r = n * T + t;
  const bool on = !mask || mask[r];
  const float hp = t > 0 ? h_seq[(r - 1) * U + j] : h0[n * U + j];
  h_seq[r * U + j] = on ? act1(act, h_seq[r * U + j] + (bias ? bias[j] : 0.0f)) : hp;
}

// One thread per (n, j), step t: dz = (carried dh + dh_seq) * act'(h_t); 0 on a masked step.
__global__ void rnn_cell_backward_kernel(float* __restrict__ dz,            // (N, T, U)
                                         float* __restrict__ dh_total,      // (N, U) out: dh at step t
                                         const float* __restrict__ dh,      // (N, U) carried dh
                                         const float* __restrict__ dh_seq,  // (N, T, U) or null
                                         const float* __restrict__ h_seq,   // (N, T, U)
                                         const uint8_t* __restrict__ mask,  // (N, T) or null
                                         int N, int T, int U, int t, int act) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * U) return;
  const int n = idx / U, j = idx % U, r = n * T + t;
  const float dhj = dh[idx] + (dh_seq ? dh_seq[r * U + j] : 0.0f);
  dh_total[idx] = dhj;
  dz[r * U + j] = (mask && !mask[r]) ? 0.0f : dhj * dact1(act, h_seq[r * U + j]);
}

}  // namespace

const std::vector<RecurrentVariantInfo>& rnn_variants() {
  static const std::vector<RecurrentVariantInfo> table = {
      {"naive", "the fused schedule with every matrix product as a plain one-thread-per-element loop "
                "(the reference)"},
      {"fused", "input projection GEMM into h_seq, one recurrent GEMM and one bias+activation kernel per "
                "step; weight gradients as GEMMs over N*T rows"},
  };
  return table;
}

void rnn_forward(float* h_seq, float* h_last, const float* x, const float* h0, const uint8_t* mask,
                 const float* kernel, const float* recurrent_kernel, const float* bias, int64_t N, int64_t T,
                 int64_t F, int64_t U, RecurrentAct act, const char* variant) {
  const bool naive = !recurrent::use_fused("rnn", variant);
  recurrent::check_int32("simple_rnn", {N * T * U, N * T * F, F * U, U * U});
  if (N == 0 || T == 0 || U == 0) return;
  mm(h_seq, x, kernel, N * T, U, F, false, false, false, F, U, U, naive);
  for (int64_t t = 0; t < T; ++t) {
    const float* hp = t > 0 ? h_seq + (t - 1) * U : h0;
    mm(h_seq + t * U, hp, recurrent_kernel, N, U, U, false, false, true, t > 0 ? T * U : U, U, T * U, naive);
    NK_LAUNCH(rnn_cell_forward_kernel, blocks_for(N * U), kBlock, 0, h_seq, h0, bias, mask, static_cast<int>(N),
              static_cast<int>(T), static_cast<int>(U), static_cast<int>(t), static_cast<int>(act));
    NK_CHECK_LAUNCH("rnn_cell_forward_kernel");
  }
  recurrent::take_last_step(h_last, h_seq, N, T, U);
}

void rnn_backward(float* dx, float* dh0, float* dkernel, float* drecurrent_kernel, float* dbias,
                  const float* dh_seq, const float* dh_last, const float* h_seq, const float* x, const float* h0,
                  const uint8_t* mask, const float* kernel, const float* recurrent_kernel, int64_t N, int64_t T,
                  int64_t F, int64_t U, RecurrentAct act, const char* variant) {
  const bool naive = !recurrent::use_fused("rnn", variant);
  recurrent::check_int32("simple_rnn", {N * T * U, N * T * F, F * U, U * U});
  if (N == 0 || T == 0 || U == 0) return;
  recurrent::init_state(dh0, dh_last, N * U);  // dh0 carries dh backwards and ends as its gradient
  recurrent::Scratch dz(static_cast<size_t>(N * T * U)), dh_total(static_cast<size_t>(N * U)),
      hprev(static_cast<size_t>(N * T * U));
  for (int64_t t = T - 1; t >= 0; --t) {
    NK_LAUNCH(rnn_cell_backward_kernel, blocks_for(N * U), kBlock, 0, dz.p, dh_total.p, dh0, dh_seq, h_seq, mask,
              static_cast<int>(N), static_cast<int>(T), static_cast<int>(U), static_cast<int>(t),
              static_cast<int>(act));
    NK_CHECK_LAUNCH("rnn_cell_backward_kernel");
    mm(dh0, dz.p + t * U, recurrent_kernel, N, U, U, false, true, false, T * U, U, U, naive);
    if (mask) recurrent::carry_masked_rows(dh0, dh_total.p, mask, N, T, U, t);
  }
  mm(dkernel, x, dz.p, F, U, N * T, true, false, true, F, U, U, naive);
  recurrent::shift_prev_rows(hprev.p, h_seq, h0, N, T, U);
  mm(drecurrent_kernel, hprev.p, dz.p, U, U, N * T, true, false, true, U, U, U, naive);
  if (dbias) column_sums_acc(dbias, dz.p, N * T, U);
  if (dx) mm(dx, dz.p, kernel, N * T, F, U, false, true, false, U, U, F, naive);
}

}  // namespace nk::cuda
