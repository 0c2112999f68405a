// optim_avx2.cpp - the optimizer updates with AVX2 + FMA, 8 floats per step (body: optim_simd.inc).
// Compiled with -mavx2 -mfma; only called when active_isa() >= avx2.
#include <immintrin.h>

#include "cpu/optim.h"

namespace nk {
namespace optim_avx2 {

struct Vec {
  static constexpr int W = 8;
  __m256 r;
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static Vec set1(float x) { return {_mm256_set1_ps(x)}; }
  void store(float* p) const { _mm256_storeu_ps(p, r); }
};
inline Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.r, b.r)}; }
inline Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.r, b.r)}; }
inline Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.r, b.r)}; }
inline Vec operator/(Vec a, Vec b) { return {_mm256_div_ps(a.r, b.r)}; }
inline Vec sqrt(Vec a) { return {_mm256_sqrt_ps(a.r)}; }
inline Vec max(Vec a, Vec b) { return {_mm256_max_ps(a.r, b.r)}; }
inline Vec fmadd(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.r, b.r, c.r)}; }   // a b + c
inline Vec fnmadd(Vec a, Vec b, Vec c) { return {_mm256_fnmadd_ps(a.r, b.r, c.r)}; } // c - a b

#include "cpu/optim_simd.inc"

}  // namespace optim_avx2
}  // namespace nk
