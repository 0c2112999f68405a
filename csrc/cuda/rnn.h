// rnn.h - SimpleRNN (Keras semantics) on the GPU, forward and backward through time: the CUDA twin
// of csrc/cpu/rnn.h (same names, layouts and accumulate / overwrite rules).
//
// Size letters: N batch, T timesteps, F input features, U units.
// Layouts are Keras': x (N, T, F); kernel (F, U); recurrent_kernel (U, U); bias (U). DEVICE pointers.
//
//   h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)        (N, U)
// Masked steps (mask[n, t] == 0) carry h through: h_t = h_{t-1}.
//
// Forward writes h_seq (N, T, U) (also what the backward needs) and h_last (N, U).
// Backward OVERWRITES dx (may be null) and dh0 and ACCUMULATES dkernel, drecurrent_kernel and dbias
// (may be null); dh_seq and dh_last may be null (= zero).
//   dz_t = (dh_seq_t + dh_t) * act'(h_t);  dh_{t-1} = dz_t @ recurrent_kernel^T
//   dkernel += x^T dz, drecurrent_kernel += hprev^T dz, dbias += sum dz, dx = dz @ kernel^T
//
// Variants (rnn_variants(); "auto" = "fused"), as the LSTM's (lstm.h):
//   naive - the fused schedule with every matrix product as a plain one-thread-per-element loop
//   fused - input projection GEMM straight into h_seq, one recurrent GEMM per step into that step's
//           rows (ldc = T*U), then bias + activation in one kernel; weight gradients as merged GEMMs
#pragma once
#include <cstdint>
#include <vector>

#include "cuda/lstm.h"  // RecurrentAct, RecurrentVariantInfo, the recurrent helpers

namespace nk::cuda {

void rnn_forward(float* h_seq,               // (N, T, U) out and saved
                 float* h_last,              // (N, U) out
                 const float* x,             // (N, T, F)
                 const float* h0,            // (N, U)
                 const uint8_t* mask,        // (N, T) device bytes, or null
                 const float* kernel,        // (F, U)
                 const float* recurrent_kernel,  // (U, U)
                 const float* bias,          // (U) or null
                 int64_t N, int64_t T, int64_t F, int64_t U, RecurrentAct act, const char* variant = "auto");

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
                  const uint8_t* mask,       // (N, T) device bytes, or null
                  const float* kernel,       // (F, U)
                  const float* recurrent_kernel,  // (U, U)
                  int64_t N, int64_t T, int64_t F, int64_t U, RecurrentAct act, const char* variant = "auto");

const std::vector<RecurrentVariantInfo>& rnn_variants();

}  // namespace nk::cuda
