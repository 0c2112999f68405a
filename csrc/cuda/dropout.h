// dropout.h - inverted dropout on the device with the SAME counter-based mask as cpu/dropout.h.
//
// Size letters: n elements.
//   dropout_forward   y[n]  = keep(i) ? x[n]  * scale : 0      scale = 1.0f / (1.0f - rate)
//   dropout_backward  dx[n] = keep(i) ? dy[n] * scale : 0      OVERWRITES dx; recomputes the mask
// keep(i) depends only on (seed, offset + i): element i takes 32-bit word (offset + i) % 4 of
// Philox4x32-10 with counter ((offset + i) / 4 as lo, hi words, 0, 0) and key (seed lo, seed hi),
// and is kept when that word >= nk::dropout_threshold(rate). This is bit for bit the CPU mapping,
// so a model trained on either device drops the same units for the same seed.
// rate in [0, 1) and offset % 4 == 0 are checked by the binding. Device pointers; asynchronous.
#pragma once
#include <cstdint>

namespace nk::cuda {

void dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed, uint64_t offset = 0);
void dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed, uint64_t offset = 0);

// Runs the device Philox4x32-10 once in a one-thread kernel and copies the 4 words back (for tests
// that compare it with the CPU generator). Host arrays in and out.
void philox4x32_10_on_device(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);

}  // namespace nk::cuda
