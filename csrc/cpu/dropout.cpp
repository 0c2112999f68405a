// dropout.cpp - Philox4x32-10, the scalar dropout reference and the dispatcher.
// Definitions and the element -> counter mapping are in cpu/dropout.h.
#include "cpu/dropout.h"

#include <cmath>

#include "core/cpu_features.h"
#include "core/parallel.h"

namespace nk {

// Philox round constants (Random123): multipliers M0, M1 and the Weyl key increments W0, W1.
static constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
static constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

void philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    // one round: two 32x32 -> 64-bit products, then mix hi words with the other lanes and the key
    uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c0;
    uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c2;
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kPhiloxW0;  // bump the key between rounds
    k1 += kPhiloxW1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

uint32_t dropout_threshold(float rate) {
  if (!(rate > 0.0f)) return 0u;
  double t = std::floor(static_cast<double>(rate) * 4294967296.0);
  return t >= 4294967295.0 ? 4294967295u : static_cast<uint32_t>(t);
}

namespace dropout_scalar {
void apply(float* y, const float* x, int64_t begin, int64_t end, uint32_t threshold, float scale,
           uint64_t seed, uint64_t offset) {
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  for (int64_t i = begin; i < end; i += 4) {
    uint64_t blk = (offset + static_cast<uint64_t>(i)) >> 2;
    uint32_t ctr[4] = {static_cast<uint32_t>(blk), static_cast<uint32_t>(blk >> 32), 0u, 0u};
    uint32_t u[4];
    philox4x32_10(u, ctr, key);
    for (int64_t j = 0; j < 4 && i + j < end; ++j)
      y[i + j] = u[j] >= threshold ? x[i + j] * scale : 0.0f;
  }
}
}  // namespace dropout_scalar

static void dropout_run(float* y, const float* x, int64_t n, float rate, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  const uint32_t thr = dropout_threshold(rate);
  const float scale = 1.0f / (1.0f - rate);
  auto fn = active_isa() == Isa::avx512 ? dropout_avx512::apply
          : active_isa() == Isa::avx2   ? dropout_avx2::apply
                                        : dropout_scalar::apply;
#ifdef NK_OPENMP
#pragma omp parallel if (n > kParallelGrain / 4)  // Philox is compute-bound (~0.8 ns/element on avx512)
#endif
  {
    int64_t b, e;
    thread_range(n, 64, &b, &e);  // multiples of 64: whole Philox blocks and whole zmm steps
    if (b < e) fn(y, x, b, e, thr, scale, seed, offset);
  }
}

void dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed, uint64_t offset) {
  dropout_run(y, x, n, rate, seed, offset);
}

// The mask is recomputed from (seed, i): dx = keep ? dy * scale : 0, the same map as forward.
void dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed, uint64_t offset) {
  dropout_run(dx, dy, n, rate, seed, offset);
}

}  // namespace nk
