// dropout_avx512.cpp - dropout with 16 Philox4x32-10 blocks in the 16 lanes of zmm registers
// (64 elements per step). The mask is bit-identical to the scalar reference in cpu/dropout.cpp.
// Size letters: n elements; the Philox constants and element -> counter mapping: cpu/dropout.h.
#include <immintrin.h>

#include "cpu/dropout.h"

// GCC 12 false positive inside avx512fintrin.h (bug 105593); see cpu/simd.h
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace nk {
namespace dropout_avx512 {

// hi and lo 32-bit halves of a[i] * m for all 16 lanes (mul_epu32 multiplies even lanes only)
static inline void mulhilo(__m512i a, __m512i m, __m512i* hi, __m512i* lo) {
  __m512i pe = _mm512_mul_epu32(a, m);                         // lanes 0, 2, ...: 64-bit products
  __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);  // lanes 1, 3, ...
  *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po);
  *lo = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

void apply(float* y, const float* x, int64_t begin, int64_t end, uint32_t threshold, float scale,
           uint64_t seed, uint64_t offset) {
  const __m512i M0 = _mm512_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m512i M1 = _mm512_set1_epi32(static_cast<int>(0xCD9E8D57u));
  const __m512i W0 = _mm512_set1_epi32(static_cast<int>(0x9E3779B9u));
  const __m512i W1 = _mm512_set1_epi32(static_cast<int>(0xBB67AE85u));
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i thr = _mm512_set1_epi32(static_cast<int>(threshold));
  const __m512 vscale = _mm512_set1_ps(scale);
  const __m512i key0 = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(seed)));
  const __m512i key1 = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(seed >> 32)));
  int64_t i = begin;
  for (; i + 64 <= end; i += 64) {
    // counters of blocks i/4 .. i/4 + 15: (lo, hi, 0, 0), carrying into hi when lo wraps
    uint64_t blk = (offset + static_cast<uint64_t>(i)) >> 2;
    __m512i lo = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(blk)));
    __m512i hi = _mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(blk >> 32)));
    __m512i c0 = _mm512_add_epi32(lo, lane);
    __m512i c1 = _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(c0, lo), hi, _mm512_set1_epi32(1));
    __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    __m512i k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi1, lo1;
      mulhilo(c0, M0, &hi0, &lo0);
      mulhilo(c2, M1, &hi1, &lo1);
      c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), k0);
      c1 = lo1;
      c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), k1);
      c3 = lo0;
      k0 = _mm512_add_epi32(k0, W0);
      k1 = _mm512_add_epi32(k1, W1);
    }
    // c_j lane b = word j of block b; element 4b + j needs it. 4x4 transpose inside each 128-bit
    // lane (u_k lane L = the 4 words of block 4L + k), then gather lanes so out_v = blocks 4v..4v+3.
    __m512i t0 = _mm512_unpacklo_epi32(c0, c1), t1 = _mm512_unpackhi_epi32(c0, c1);
    __m512i t2 = _mm512_unpacklo_epi32(c2, c3), t3 = _mm512_unpackhi_epi32(c2, c3);
    __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
    __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
    __m512i a01 = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(1, 0, 1, 0));
    __m512i b01 = _mm512_shuffle_i32x4(u2, u3, _MM_SHUFFLE(1, 0, 1, 0));
    __m512i a23 = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(3, 2, 3, 2));
    __m512i b23 = _mm512_shuffle_i32x4(u2, u3, _MM_SHUFFLE(3, 2, 3, 2));
    __m512i out[4] = {_mm512_shuffle_i32x4(a01, b01, _MM_SHUFFLE(2, 0, 2, 0)),
                      _mm512_shuffle_i32x4(a01, b01, _MM_SHUFFLE(3, 1, 3, 1)),
                      _mm512_shuffle_i32x4(a23, b23, _MM_SHUFFLE(2, 0, 2, 0)),
                      _mm512_shuffle_i32x4(a23, b23, _MM_SHUFFLE(3, 1, 3, 1))};
    for (int v = 0; v < 4; ++v) {
      __mmask16 keep = _mm512_cmpge_epu32_mask(out[v], thr);
      _mm512_storeu_ps(y + i + 16 * v, _mm512_maskz_mul_ps(keep, _mm512_loadu_ps(x + i + 16 * v), vscale));
    }
  }
  if (i < end) dropout_scalar::apply(y, x, i, end, threshold, scale, seed, offset);  // < 64 left
}

}  // namespace dropout_avx512
}  // namespace nk
