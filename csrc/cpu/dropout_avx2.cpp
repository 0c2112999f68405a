// dropout_avx2.cpp - dropout with 8 Philox4x32-10 blocks in the 8 lanes of ymm registers
// (32 elements per step). The mask is bit-identical to the scalar reference in cpu/dropout.cpp.
// Size letters: n elements; the Philox constants and element -> counter mapping: cpu/dropout.h.
#include <immintrin.h>

#include "cpu/dropout.h"

namespace nk {
namespace dropout_avx2 {

// hi and lo 32-bit halves of a[i] * m for all 8 lanes (mul_epu32 multiplies even lanes only)
static inline void mulhilo(__m256i a, __m256i m, __m256i* hi, __m256i* lo) {
  __m256i pe = _mm256_mul_epu32(a, m);
  __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
  *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

void apply(float* y, const float* x, int64_t begin, int64_t end, uint32_t threshold, float scale,
           uint64_t seed, uint64_t offset) {
  const __m256i M0 = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m256i M1 = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
  const __m256i W0 = _mm256_set1_epi32(static_cast<int>(0x9E3779B9u));
  const __m256i W1 = _mm256_set1_epi32(static_cast<int>(0xBB67AE85u));
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i sign = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i thr = _mm256_set1_epi32(static_cast<int>(threshold));
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256i key0 = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(seed)));
  const __m256i key1 = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(seed >> 32)));
  int64_t i = begin;
  for (; i + 32 <= end; i += 32) {
    uint64_t blk = (offset + static_cast<uint64_t>(i)) >> 2;
    __m256i lo = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(blk)));
    __m256i hi = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(blk >> 32)));
    __m256i c0 = _mm256_add_epi32(lo, lane);
    // unsigned c0 < lo (the low word wrapped): compare with the sign bits flipped; -1 where true
    __m256i carry = _mm256_cmpgt_epi32(_mm256_xor_si256(lo, sign), _mm256_xor_si256(c0, sign));
    __m256i c1 = _mm256_sub_epi32(hi, carry);
    __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
    __m256i k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo(c0, M0, &hi0, &lo0);
      mulhilo(c2, M1, &hi1, &lo1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), k0);
      c1 = lo1;
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), k1);
      c3 = lo0;
      k0 = _mm256_add_epi32(k0, W0);
      k1 = _mm256_add_epi32(k1, W1);
    }
    // 4x4 transpose per 128-bit lane: u_k lane L = words of block 4L + k; out_w = blocks 2w, 2w+1
    __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i out[4] = {_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u2, u3, 0x20),
                      _mm256_permute2x128_si256(u0, u1, 0x31), _mm256_permute2x128_si256(u2, u3, 0x31)};
    for (int w = 0; w < 4; ++w) {
      // unsigned u >= thr  <=>  max_epu32(u, thr) == u
      __m256i keep = _mm256_cmpeq_epi32(_mm256_max_epu32(out[w], thr), out[w]);
      __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * w), vscale);
      _mm256_storeu_ps(y + i + 8 * w, _mm256_and_ps(_mm256_castsi256_ps(keep), v));
    }
  }
  if (i < end) dropout_scalar::apply(y, x, i, end, threshold, scale, seed, offset);  // < 32 left
}

}  // namespace dropout_avx2
}  // namespace nk
