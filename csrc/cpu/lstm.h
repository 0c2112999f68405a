// lstm.h - LSTM layer (Keras semantics) over a whole sequence, forward and backward through time.
//
// Size letters: N batch, T timesteps, F input features, U units (G = 4U gate columns).
// Layouts are Keras': x (N, T, F) batch-major; kernel (F, 4U); recurrent_kernel (U, 4U); bias (4U);
// the 4U gate columns are ordered i, f, c, o (torch's i, f, g, o: the same order).
//
//   z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias            (N, 4U)
//   i = ract(z_i)  f = ract(z_f)  g = act(z_c)  o = ract(z_o)         ract = recurrent_activation
//   c_t = f * c_{t-1} + i * g       h_t = o * act(c_t)
// With a mask (N, T) (Embedding mask_zero): where mask[n, t] == 0 the step is skipped for row n:
//   h_t = h_{t-1}, c_t = c_{t-1} (Keras carries the state through masked steps).
//
// Forward writes h_seq (N, T, U), h_last and c_last (N, U), and saves gates (N, T, 4U: i, f, g, o
// after their activations) and c_seq (N, T, U) for the backward. gates may be null (inference: a
// forward that no backward will follow saves no gates).
// Backward OVERWRITES dx (N, T, F), dh0 and dc0 (N, U) (input gradients; dx may be null to skip it)
// and ACCUMULATES dkernel, drecurrent_kernel, dbias (parameter gradients, +=; dbias may be null).
// Upstream gradients dh_seq (N, T, U), dh_last and dc_last (N, U) may each be null (= zero).
//
// Activations: act / ract are indices into activation_table() (cpu/activation.h) and must be one of
// tanh, sigmoid, relu, linear (lstm_check_activation): backward computes f' from the saved OUTPUT.
//
// Variants (lstm_variants()):
//   naive - plain loops: per step and row a dot product per gate column; the reference
//   fused - per step and thread two GEMMs (nk::gemm) into a small z scratch (N, 4w) that stays in
//           cache: x_t @ kernel and += h_{t-1} @ recurrent_kernel for the thread's units, then one
//           fused vector pass per row (bias, ract/act, c/h update: cpu/lstm_kernels.inc) that writes
//           the activated gates, c_t and h_t. Backward: the dgates loop per step (sequential only in
//           dh_{t-1} = dz_t @ recurrent_kernel^T), then dkernel, drecurrent_kernel, dx and dbias as
//           single merged GEMMs / sums with K = N*T.
// The same file provides SimpleRNN (cpu/rnn.h) with the same structure.
#pragma once
#include <cstdint>
#include <vector>

namespace nk {

// Throws ValueError unless activation index `act` is usable inside a recurrent cell (f' from y).
void lstm_check_activation(int act, const char* what);

void lstm_forward(float* h_seq,              // (N, T, U) out
                  float* h_last,             // (N, U) out
                  float* c_last,             // (N, U) out
                  float* gates,              // (N, T, 4U) saved: i, f, g, o after activation; or null
                  float* c_seq,              // (N, T, U) saved: c_t
                  const float* x,            // (N, T, F)
                  const float* h0,           // (N, U)
                  const float* c0,           // (N, U)
                  const uint8_t* mask,       // (N, T) or null (all steps active)
                  const float* kernel,       // (F, 4U)
                  const float* recurrent_kernel,  // (U, 4U)
                  const float* bias,         // (4U) or null
                  int64_t N, int64_t T, int64_t F, int64_t U, int act, int ract);

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
                   const uint8_t* mask,      // (N, T) or null
                   const float* kernel,      // (F, 4U)
                   const float* recurrent_kernel,  // (U, 4U)
                   int64_t N, int64_t T, int64_t F, int64_t U, int act, int ract);

void lstm_forward_naive(float* h_seq, float* h_last, float* c_last, float* gates, float* c_seq,
                        const float* x, const float* h0, const float* c0, const uint8_t* mask,
                        const float* kernel, const float* recurrent_kernel, const float* bias,
                        int64_t N, int64_t T, int64_t F, int64_t U, int act, int ract);
void lstm_backward_naive(float* dx, float* dh0, float* dc0, float* dkernel, float* drecurrent_kernel,
                         float* dbias, const float* dh_seq, const float* dh_last, const float* dc_last,
                         const float* gates, const float* c_seq, const float* h_seq, const float* x,
                         const float* h0, const float* c0, const uint8_t* mask, const float* kernel,
                         const float* recurrent_kernel, int64_t N, int64_t T, int64_t F, int64_t U,
                         int act, int ract);

struct LstmVariant {
  const char* name;         // "naive", "fused"
  const char* description;  // one line, as in the file header
  decltype(&lstm_forward) forward;
  decltype(&lstm_backward) backward;
};
const std::vector<LstmVariant>& lstm_variants();
const LstmVariant& lstm_find_variant(const char* name);  // throws ValueError naming the known ones

// ---- helpers shared with rnn.cpp (serial; called on one row of a step) ------------------------
namespace recurrent {
// y[0:n) = f(x[0:n)) with the active ISA's vector kernel (y may equal x).
void act_forward(int act, float* y, const float* x, int64_t n);
// dz[0:n) = dy * f'(.) given the saved output y (dz may equal dy).
void act_backward(int act, float* dz, const float* dy, const float* y, int64_t n);
// Scalar reference versions (std::exp / std::tanh), used by the naive variants.
float act1(int act, float x);
float dact1(int act, float y);  // f' expressed through the output y = f(x)
// Column sums: db[j] += sum_r dz[r, j], dz (R, C) row-major; split over columns across threads.
void column_sums_acc(float* db, const float* dz, int64_t R, int64_t C);
}  // namespace recurrent

// The fused forward cell pass of one row over units [j0, j0 + w) (cpu/lstm_kernels.inc), one build per
// ISA; lstm.cpp keeps the scalar version. gates (4U) the row's activated gates (out), c/h (U) c_t/h_t,
// z (4w) the pre-activations of the w units as blocks i f g o, bias (4U) or null, cprev (U) c_{t-1}.
namespace lstm_avx2 {
void cell_forward(float* gates, float* c, float* h, const float* z, const float* bias, const float* cprev,
                  int64_t U, int64_t j0, int64_t w, int act, int ract);
}
namespace lstm_avx512 {
void cell_forward(float* gates, float* c, float* h, const float* z, const float* bias, const float* cprev,
                  int64_t U, int64_t j0, int64_t w, int act, int ract);
}

}  // namespace nk
