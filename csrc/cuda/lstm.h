// lstm.h - LSTM layer (Keras semantics) on the GPU, forward and backward through time: the CUDA twin
// of csrc/cpu/lstm.h (same names, layouts, saved tensors and accumulate / overwrite rules).
//
// Size letters: N batch, T timesteps, F input features, U units (G = 4U gate columns).
// Layouts are Keras': x (N, T, F); kernel (F, 4U); recurrent_kernel (U, 4U); bias (4U); gate order
// i, f, c, o. All pointers are DEVICE pointers.
//
//   z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias            (N, 4U)
//   i = ract(z_i)  f = ract(z_f)  g = act(z_c)  o = ract(z_o)         ract = recurrent_activation
//   c_t = f * c_{t-1} + i * g       h_t = o * act(c_t)
// Masked steps (mask[n, t] == 0) carry h and c through: h_t = h_{t-1}, c_t = c_{t-1}.
//
// Forward writes h_seq (N, T, U), h_last and c_last (N, U) and saves gates (N, T, 4U: i, f, g, o
// after their activations) and c_seq (N, T, U). Backward OVERWRITES dx (may be null), dh0, dc0 and
// ACCUMULATES dkernel, drecurrent_kernel, dbias (may be null); dh_seq, dh_last, dc_last may be null.
//
// Variants (lstm_variants(); "auto" = "fused", as on the CPU):
//   naive - per step one thread per (row, unit) computes its four gate dot products with plain
//           loops, then the cell; backward per step a dz kernel and a dh_{t-1} kernel, then one
//           thread per weight sums over all N*T rows (the reference)
//   fused - the input projection of the whole sequence as ONE GEMM (nk::cuda::gemm) into `gates`,
//           per step one recurrent GEMM accumulated into that step's rows, then one fused kernel
//           (bias, activations, c/h update, mask) per step; backward per step one fused dz kernel
//           and one GEMM dh_{t-1} = dz_t @ recurrent_kernel^T, then dkernel, drecurrent_kernel and
//           dx as single GEMMs over all N*T rows and dbias as column sums
#pragma once
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace nk::cuda {

// The activations a recurrent cell supports (the backward needs f' from the saved output).
enum class RecurrentAct : int { linear = 0, sigmoid = 1, tanh = 2, relu = 3 };

void lstm_forward(float* h_seq,              // (N, T, U) out
                  float* h_last,             // (N, U) out
                  float* c_last,             // (N, U) out
                  float* gates,              // (N, T, 4U) saved: i, f, g, o after activation
                  float* c_seq,              // (N, T, U) saved: c_t
                  const float* x,            // (N, T, F)
                  const float* h0,           // (N, U)
                  const float* c0,           // (N, U)
                  const uint8_t* mask,       // (N, T) device bytes, or null (all steps active)
                  const float* kernel,       // (F, 4U)
                  const float* recurrent_kernel,  // (U, 4U)
                  const float* bias,         // (4U) or null
                  int64_t N, int64_t T, int64_t F, int64_t U, RecurrentAct act, RecurrentAct ract,
                  const char* variant = "auto");

void lstm_backward(float* dx,                // (N, T, F) overwritten, or null
                   float* dh0,               // (N, U) overwritten
                   float* dc0,               // (N, U) overwritten
                   float* dkernel,           // (F, 4U) accumulated
                   float* drecurrent_kernel, // (U, 4U) accumulated
                   float* dbias,             // (4U) accumulated, or null
                   const float* dh_seq,      // (N, T, U) or null
                   const float* dh_last,     // (N, U) or null
                   const float* dc_last,     // (N, U) or null
                   const float* gates,       // (N, T, 4U) saved by forward
                   const float* c_seq,       // (N, T, U) saved by forward
                   const float* h_seq,       // (N, T, U) forward output
                   const float* x,           // (N, T, F)
                   const float* h0,          // (N, U)
                   const float* c0,          // (N, U)
                   const uint8_t* mask,      // (N, T) device bytes, or null
                   const float* kernel,      // (F, 4U)
                   const float* recurrent_kernel,  // (U, 4U)
                   int64_t N, int64_t T, int64_t F, int64_t U, RecurrentAct act, RecurrentAct ract,
                   const char* variant = "auto");

struct RecurrentVariantInfo {
  const char* name;         // "naive", "fused"
  const char* description;  // one line, as in the header
};
const std::vector<RecurrentVariantInfo>& lstm_variants();

// ---- helpers shared with rnn.cu ------------------------------------------------------------------
namespace recurrent {
// The variant name ("auto" = "fused") as naive -> false, fused -> true; throws ValueError naming the
// known ones (`family` is "lstm" or "rnn", as in the CPU messages).
bool use_fused(const char* family, const char* variant);
// out[i] = (mask[i] != 0) for a device mask of n elements; dtype_code 0 float32, 1 int32, 2 int64.
void mask_to_bytes(uint8_t* out, const void* mask, int dtype_code, int64_t n);
// Throws ValueError unless every size fits the kernels' 32-bit indexing.
void check_int32(const char* op, std::initializer_list<int64_t> sizes);
// C (M, N) = op(A) @ op(B) (+ C when accumulate) with row strides lda/ldb/ldc, through
// nk::cuda::gemm, or with `naive` a plain one-thread-per-element loop (the naive variants).
// Zero sizes are handled here (K == 0 leaves C, or zeroes it when not accumulating).
void mm(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K, bool trans_a,
        bool trans_b, bool accumulate, int64_t lda, int64_t ldb, int64_t ldc, bool naive);
// hprev (N, T, U): row (n, t) = h_{t-1} = h_seq[n, t-1], or h0[n] at t = 0 (the recurrent GEMM's
// left operand for all steps at once).
void shift_prev_rows(float* hprev, const float* h_seq, const float* h0, int64_t N, int64_t T, int64_t U);
// Rows n skipped at step t (mask[n, t] == 0) pass the gradient through: dh[n] = dh_total[n] (N, U).
void carry_masked_rows(float* dh, const float* dh_total, const uint8_t* mask, int64_t N, int64_t T,
                       int64_t U, int64_t t);
// out (N, U) = seq[:, T-1, :] of a (N, T, U) sequence (h_last, c_last).
void take_last_step(float* out, const float* seq, int64_t N, int64_t T, int64_t U);
// dst (count) = src, or zeros when src is null (the carried gradients start from dh_last / dc_last).
void init_state(float* dst, const float* src, int64_t count);
}  // namespace recurrent

}  // namespace nk::cuda
