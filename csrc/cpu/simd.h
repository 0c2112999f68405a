// simd.h - thin, identical-looking wrappers over AVX2 (8 floats) and AVX-512 (16 floats) so one
// kernel body (cpu/simd_math.inc, cpu/activation_kernels.inc) compiles for both widths.
//
// Only usable from translation units compiled with the ISA's flags (files named *_avx2.cpp or
// *_avx512.cpp): each namespace exists only when the compiler targets that ISA. In a kernel file:
//     #include "cpu/simd.h"
//     namespace nk::act_avx512 { using namespace nk::simd512; #include "cpu/activation_kernels.inc" }
//
// Per namespace: vf (float vector), vm (lane mask), vi (int32 vector), kW (lanes), load/store,
// load_tail/store_tail (first n < kW lanes; other lanes read as 0 and are not written), arithmetic,
// compares, select(m, a_if_true, b_if_false), integer bit helpers and horizontal reductions.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace nk {

#if defined(__AVX2__) && defined(__FMA__)
namespace simd256 {
using vf = __m256;
using vm = __m256;   // all-ones / all-zeros lanes
using vi = __m256i;
constexpr int kW = 8;

inline vf load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, vf v) { _mm256_storeu_ps(p, v); }
inline vi tail_mask(int64_t n) {  // lanes [0, n) set
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline vf load_tail(const float* p, int64_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
inline void store_tail(float* p, vf v, int64_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
inline vm tail_lanes(int64_t n) { return _mm256_castsi256_ps(tail_mask(n)); }

inline vf set1(float a) { return _mm256_set1_ps(a); }
inline vf add(vf a, vf b) { return _mm256_add_ps(a, b); }
inline vf sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
inline vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
inline vf div(vf a, vf b) { return _mm256_div_ps(a, b); }
inline vf fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }    // a * b + c
inline vf fnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a * b
// max/min return the SECOND operand when either is NaN: put the data last to propagate NaN
inline vf max(vf a, vf b) { return _mm256_max_ps(a, b); }
inline vf min(vf a, vf b) { return _mm256_min_ps(a, b); }
inline vf round_nearest(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vf abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline vf copysign(vf mag, vf sgn) {  // |mag| with the sign of sgn
  const vf s = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sgn));
}

inline vm gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
inline vm lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline vm ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
inline vm eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
inline vm mand(vm a, vm b) { return _mm256_and_ps(a, b); }
inline vf select(vm m, vf t, vf f) { return _mm256_blendv_ps(f, t, m); }
inline vf mask_to(vm m, vf t) { return _mm256_and_ps(m, t); }  // t where m, else 0

inline vi cvt_int(vf a) { return _mm256_cvttps_epi32(a); }  // a already integral
inline vf cvt_float(vi a) { return _mm256_cvtepi32_ps(a); }
inline vi as_int(vf a) { return _mm256_castps_si256(a); }
inline vf as_float(vi a) { return _mm256_castsi256_ps(a); }
inline vi add_i(vi a, vi b) { return _mm256_add_epi32(a, b); }
inline vi sub_i(vi a, vi b) { return _mm256_sub_epi32(a, b); }
inline vi set1_i(int a) { return _mm256_set1_epi32(a); }
inline vi and_i(vi a, vi b) { return _mm256_and_si256(a, b); }
inline vi or_i(vi a, vi b) { return _mm256_or_si256(a, b); }
inline vi srai_i(vi a, int k) { return _mm256_srai_epi32(a, k); }
inline vi srli_i(vi a, int k) { return _mm256_srli_epi32(a, k); }
inline vi slli_i(vi a, int k) { return _mm256_slli_epi32(a, k); }

inline float hmax(vf a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Double-precision accumulator for float lanes (row sums in softmax).
struct dacc {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  void add(vf v) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  double sum() const {
    alignas(32) double t[4];
    _mm256_store_pd(t, _mm256_add_pd(lo, hi));
    return (t[0] + t[1]) + (t[2] + t[3]);
  }
};
}  // namespace simd256
#endif

#if defined(__AVX512F__) && defined(__AVX512DQ__)
// GCC 12 warns "__Y may be used uninitialized" inside its own avx512fintrin.h for unmasked
// intrinsics (GCC bug 105593, fixed in GCC 13): a false positive, silenced for these files only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace simd512 {
using vf = __m512;
using vm = __mmask16;
using vi = __m512i;
constexpr int kW = 16;

inline vf load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, vf v) { _mm512_storeu_ps(p, v); }
inline vm tail_lanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }  // n < 16
inline vf load_tail(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(tail_lanes(n), p); }
inline void store_tail(float* p, vf v, int64_t n) { _mm512_mask_storeu_ps(p, tail_lanes(n), v); }

inline vf set1(float a) { return _mm512_set1_ps(a); }
inline vf add(vf a, vf b) { return _mm512_add_ps(a, b); }
inline vf sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
inline vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
inline vf div(vf a, vf b) { return _mm512_div_ps(a, b); }
inline vf fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
inline vf fnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
inline vf max(vf a, vf b) { return _mm512_max_ps(a, b); }  // NaN: returns b, as on AVX2
inline vf min(vf a, vf b) { return _mm512_min_ps(a, b); }
inline vf round_nearest(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vf abs(vf a) { return _mm512_abs_ps(a); }
inline vf copysign(vf mag, vf sgn) {
  const vi s = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(s, _mm512_castps_si512(mag)),
                                             _mm512_and_si512(s, _mm512_castps_si512(sgn))));
}

inline vm gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline vm lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline vm ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
inline vm eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
inline vm mand(vm a, vm b) { return static_cast<vm>(a & b); }
inline vf select(vm m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
inline vf mask_to(vm m, vf t) { return _mm512_maskz_mov_ps(m, t); }

inline vi cvt_int(vf a) { return _mm512_cvttps_epi32(a); }
inline vf cvt_float(vi a) { return _mm512_cvtepi32_ps(a); }
inline vi as_int(vf a) { return _mm512_castps_si512(a); }
inline vf as_float(vi a) { return _mm512_castsi512_ps(a); }
inline vi add_i(vi a, vi b) { return _mm512_add_epi32(a, b); }
inline vi sub_i(vi a, vi b) { return _mm512_sub_epi32(a, b); }
inline vi set1_i(int a) { return _mm512_set1_epi32(a); }
inline vi and_i(vi a, vi b) { return _mm512_and_si512(a, b); }
inline vi or_i(vi a, vi b) { return _mm512_or_si512(a, b); }
inline vi srai_i(vi a, int k) { return _mm512_srai_epi32(a, static_cast<unsigned>(k)); }
inline vi srli_i(vi a, int k) { return _mm512_srli_epi32(a, static_cast<unsigned>(k)); }
inline vi slli_i(vi a, int k) { return _mm512_slli_epi32(a, static_cast<unsigned>(k)); }

inline float hmax(vf a) { return _mm512_reduce_max_ps(a); }

struct dacc {
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  void add(vf v) {
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
  }
  double sum() const { return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi)); }
};
}  // namespace simd512
#endif

}  // namespace nk
