// rnn.h - SimpleRNN (Keras semantics) over a whole sequence, forward and backward through time.
//
// Size letters: N batch, T timesteps, F input features, U units.
// Layouts are Keras': x (N, T, F); kernel (F, U); recurrent_kernel (U, U); bias (U).
//
//   h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)        (N, U)
// With a mask (N, T): where mask[n, t] == 0, h_t = h_{t-1} for row n (Keras carries the state).
//
// Forward writes h_seq (N, T, U) (also what the backward needs) and h_last (N, U).
// Backward OVERWRITES dx (N, T, F; may be null) and dh0 (N, U) and ACCUMULATES dkernel,
// drecurrent_kernel and dbias (may be null). dh_seq and dh_last may be null (= zero).
//   dz_t = (dh_seq_t + dh_t) * act'(h_t);  dh_{t-1} = dz_t @ recurrent_kernel^T
//   dkernel += x^T dz, drecurrent_kernel += hprev^T dz, dbias += sum dz, dx = dz @ kernel^T
// act must be tanh, sigmoid, relu or linear (lstm_check_activation).
//
// Variants (rnn_variants()):
//   naive - plain loops per step and row (reference)
//   fused - input projection GEMM straight into h_seq, one recurrent GEMM per step into that step's
//           rows (ldc = T*U), bias + vector activation in one pass; merged weight GEMMs in backward
#pragma once
#include <cstdint>
#include <vector>

namespace nk {

void rnn_forward(float* h_seq,               // (N, T, U) out and saved
                 float* h_last,              // (N, U) out
                 const float* x,             // (N, T, F)
                 const float* h0,            // (N, U)
                 const uint8_t* mask,        // (N, T) or null
                 const float* kernel,        // (F, U)
                 const float* recurrent_kernel,  // (U, U)
                 const float* bias,          // (U) or null
                 int64_t N, int64_t T, int64_t F, int64_t U, int act);

void rnn_backward(float* dx,                 // (N, T, F) overwritten, or null
                  float* dh0,                // (N, U) overwritten
                  float* dkernel,            // (F, U) accumulated
                  float* drecurrent_kernel,  // (U, U) accumulated
                  float* dbias,              // (U) accumulated, or null
                  const float* dh_seq,       // (N, T, U) or null
                  const float* dh_last,      // (N, U) or null
                  const float* h_seq,        // (N, T, U) saved by forward
                  const float* x,            // (N, T, F)
                  const float* h0,           // (N, U)
                  const uint8_t* mask,       // (N, T) or null
                  const float* kernel,       // (F, U)
                  const float* recurrent_kernel,  // (U, U)
                  int64_t N, int64_t T, int64_t F, int64_t U, int act);

void rnn_forward_naive(float* h_seq, float* h_last, const float* x, const float* h0, const uint8_t* mask,
                       const float* kernel, const float* recurrent_kernel, const float* bias, int64_t N,
                       int64_t T, int64_t F, int64_t U, int act);
void rnn_backward_naive(float* dx, float* dh0, float* dkernel, float* drecurrent_kernel, float* dbias,
                        const float* dh_seq, const float* dh_last, const float* h_seq, const float* x,
                        const float* h0, const uint8_t* mask, const float* kernel,
                        const float* recurrent_kernel, int64_t N, int64_t T, int64_t F, int64_t U, int act);

struct RnnVariant {
  const char* name;
  const char* description;
  decltype(&rnn_forward) forward;
  decltype(&rnn_backward) backward;
};
const std::vector<RnnVariant>& rnn_variants();
const RnnVariant& rnn_find_variant(const char* name);  // throws ValueError naming the known ones

}  // namespace nk
