// dropout.h - inverted dropout with a counter-based RNG (no mask is stored).
//
// Size letters: n elements.
//   dropout_forward   y[n]  = keep(i) ? x[n]  / (1 - rate) : 0      (Keras: kept units scaled up)
//   dropout_backward  dx[n] = keep(i) ? dy[n] / (1 - rate) : 0      OVERWRITES dx; recomputes the mask
// keep(i) depends only on (seed, i): element i takes 32-bit word i % 4 of Philox4x32-10 with
// counter = (i / 4 as two 32-bit words lo, hi, 0, 0) and key = (seed lo, seed hi), and is kept when
// that word >= dropout_threshold(rate) = floor(rate * 2^32), rate taken as float32 (computed in
// double, so exact). Kept values are x * (1.0f / (1.0f - rate)) in float32. So the mask is the
// same for every thread count and ISA, and a CUDA kernel using the same mapping reproduces it
// bit for bit.
// rate must be in [0, 1) (the binding checks; rate == 0 copies). `offset` (a multiple of 4) is the
// index of element 0 in a larger logical tensor: a tensor processed in pieces gets the same mask
// as in one call.
//
// Paths (chosen by nk::active_isa(); each produces the identical mask):
//   scalar - one Philox block (4 elements) at a time: the reference
//   avx2   - 8 Philox blocks in parallel lanes (_mm256_mul_epu32 for the 32x32->64 products)
//   avx512 - 16 Philox blocks in parallel lanes, 64 elements per step
#pragma once
#include <cstdint>

namespace nk {

// Philox4x32 with 10 rounds (Salmon et al., SC'11; Random123). out may equal ctr.
void philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);

uint32_t dropout_threshold(float rate);  // keep a word u iff u >= this

void dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed, uint64_t offset = 0);
void dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed, uint64_t offset = 0);

// Per-ISA serial kernel: y[i] = keep(offset + i) ? x[i] * scale : 0 for i in [begin, end)
// (begin and offset multiples of 4); x and y point at element 0 of the whole array.
namespace dropout_scalar {
void apply(float* y, const float* x, int64_t begin, int64_t end, uint32_t threshold, float scale, uint64_t seed,
           uint64_t offset);
}
namespace dropout_avx2 {
void apply(float* y, const float* x, int64_t begin, int64_t end, uint32_t threshold, float scale, uint64_t seed,
           uint64_t offset);
}
namespace dropout_avx512 {
void apply(float* y, const float* x, int64_t begin, int64_t end, uint32_t threshold, float scale, uint64_t seed,
           uint64_t offset);
}

}  // namespace nk
