// dropout.cu - inverted dropout on the device: Philox4x32-10 per 4 elements, no stored mask.
// The element -> (counter, word) mapping and the threshold are those of cpu/dropout.cpp (the
// scalar reference there is what the tests compare against, mask for mask).
//
// Size letters: n elements.
// Kernel: dropout_kernel - thread j handles the j-th Philox block of the call, elements 4j .. 4j+3
//   (offset is a multiple of 4, so one block's 4 words never straddle two threads); grid-stride
//   over blocks. Forward and backward are the same map (x -> y with the mask): one kernel for both.
#include "cuda/dropout.h"

#include "core/errors.h"
#include "cpu/dropout.h"  // nk::dropout_threshold: one definition of the keep threshold
#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

// Philox round constants (Random123): multipliers M0, M1 and the Weyl key increments W0, W1.
constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

// Philox4x32-10 (Salmon et al., SC'11): ten rounds of two 32x32 -> 64-bit products whose halves are
// mixed with the other lanes and the key, the key bumped by a Weyl constant between rounds.
__device__ __forceinline__ void philox(uint32_t out[4], uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                       uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

// y (n,) = keep ? x * scale : 0; y may be x (each thread reads then writes only its own 4 elements).
__global__ void dropout_kernel(float* y, const float* x, int64_t n, uint32_t threshold, float scale,
                               uint32_t key0, uint32_t key1, uint64_t offset) {
  const int64_t blocks = (n + 3) / 4;  // Philox blocks this call touches
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < blocks;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint64_t blk = (offset >> 2) + static_cast<uint64_t>(j);  // = (offset + 4j) / 4
    uint32_t u[4];
    philox(u, static_cast<uint32_t>(blk), static_cast<uint32_t>(blk >> 32), 0u, 0u, key0, key1);
    for (int q = 0; q < 4; ++q) {
      const int64_t i = 4 * j + q;
      if (i < n) y[i] = u[q] >= threshold ? x[i] * scale : 0.0f;
    }
  }
}

__global__ void philox_kernel(uint32_t* out, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                              uint32_t k1) {
  philox(out, c0, c1, c2, c3, k0, k1);
}

void dropout_run(float* y, const float* x, int64_t n, float rate, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  NK_CHECK(offset % 4 == 0, "dropout offset must be a multiple of 4 (one Philox block), got ", offset);
  const uint32_t threshold = dropout_threshold(rate);
  const float scale = 1.0f / (1.0f - rate);  // the same float32 expression as the CPU path
  const int threads = 256;
  const int64_t blocks = ((n + 3) / 4 + threads - 1) / threads;
  NK_LAUNCH(dropout_kernel, static_cast<int>(blocks < 4096 ? blocks : 4096), threads, 0, y, x, n, threshold,
            scale, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), offset);
  NK_CHECK_LAUNCH("dropout_kernel");
}

}  // namespace

void dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed, uint64_t offset) {
  dropout_run(y, x, n, rate, seed, offset);
}

// The mask is recomputed from (seed, i): dx = keep ? dy * scale : 0, the same map as forward.
void dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed, uint64_t offset) {
  dropout_run(dx, dy, n, rate, seed, offset);
}

void philox4x32_10_on_device(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]) {
  auto* d = static_cast<uint32_t*>(device_alloc(4 * sizeof(uint32_t)));
  try {
    NK_LAUNCH(philox_kernel, 1, 1, 0, d, ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
    NK_CHECK_LAUNCH("philox_kernel");
    memcpy_d2h(out, d, 4 * sizeof(uint32_t));
  } catch (...) {
    device_free(d);
    throw;
  }
  device_free(d);
}

}  // namespace nk::cuda
