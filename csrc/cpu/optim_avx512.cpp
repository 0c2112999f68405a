// optim_avx512.cpp - the optimizer updates with AVX-512F, 16 floats per step (body: optim_simd.inc).
// Compiled with -mavx512f ...; only called when active_isa() == avx512.
#include <immintrin.h>

#include "cpu/optim.h"

namespace nk {
namespace optim_avx512 {

struct Vec {
  static constexpr int W = 16;
  __m512 r;
  static Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static Vec set1(float x) { return {_mm512_set1_ps(x)}; }
  void store(float* p) const { _mm512_storeu_ps(p, r); }
};
inline Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.r, b.r)}; }
inline Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.r, b.r)}; }
inline Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.r, b.r)}; }
inline Vec operator/(Vec a, Vec b) { return {_mm512_div_ps(a.r, b.r)}; }
inline Vec sqrt(Vec a) { return {_mm512_sqrt_ps(a.r)}; }
inline Vec max(Vec a, Vec b) { return {_mm512_max_ps(a.r, b.r)}; }
inline Vec fmadd(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.r, b.r, c.r)}; }   // a b + c
inline Vec fnmadd(Vec a, Vec b, Vec c) { return {_mm512_fnmadd_ps(a.r, b.r, c.r)}; } // c - a b

#include "cpu/optim_simd.inc"

}  // namespace optim_avx512
}  // namespace nk
