// gemm_avx2.cpp - packed_avx2: Goto/BLIS-blocked SGEMM with an AVX2+FMA micro-kernel, for CPUs
// without AVX-512 (and the avx2 path of the tests on this one).
//
// Size letters as in gemm.h: C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C.
// Variant defined here (registered in gemm.cpp):
//   packed_avx2 - A packed in MR=6-row slivers, B in NR=16-column panels (or read in place when M is
//                 small), 6x16 register tile = 12 ymm accumulators (BLIS haswell shape), masked N
//                 edges, threads claim groups of B panels / A slivers.
// Blocking, packing and threading live in gemm_packed.h (shared with the AVX-512 variant).
//
// 12 accumulators = 2 FMA ports x 4-cycle latency x 1.5, so the FMA chains never stall; per k step
// 2 vector loads + 6 broadcasts feed 12 FMAs. Also here: the ymm FMA peak probe for the benchmark.
#include <immintrin.h>

#include <chrono>
#include <utility>

#include "cpu/fma_probe.h"
#include "cpu/gemm_packed.h"

namespace nk {
namespace {

constexpr int kVL = 8;  // floats per ymm

// Lane mask for the first `n` (1..8) lanes, as maskload/maskstore want it (sign bit set = active).
inline __m256i lane_mask(int n) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota);
}

// C[ROWS, NV*8 (last vector masked by `last`)] = alpha * sum_k Ap[k][0:ROWS] (x) B[k][0:NV*8] + beta*C
// Ap: [kc][MR] packed A sliver; B: [kc][ldb] (packed panel with ldb = NR, or B itself in rv mode);
// C: [ROWS][ldc]. MASKB: B itself (rv mode) with a partial last vector, so loads must not run past
// column N (vmaskmovps costs an extra FMA-port uop on Intel, so packed panels use plain loads).
template <int MR, int ROWS, int NV, bool MASKB>
void ukr_avx2(int64_t kc, const float* __restrict Ap, const float* __restrict B, int64_t ldb,
              float* __restrict C, int64_t ldc, float alpha, float beta, __m256i last) {
  __m256 acc[ROWS][NV];
#pragma GCC unroll 8
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < ROWS; ++r) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T1);

#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      b[v] = MASKB && v == NV - 1 ? _mm256_maskload_ps(B + v * kVL, last) : _mm256_loadu_ps(B + v * kVL);
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; ++r) {
      const __m256 a = _mm256_broadcast_ss(Ap + r);  // op(A)[i+r][k]
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(a, b[v], acc[r][v]);
    }
    Ap += MR;
    B += ldb;
  }

  // Epilogue: C = alpha*acc (+ beta*C only when beta != 0, so NaN garbage in C is never read).
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const __m256i all = _mm256_set1_epi32(-1);
#pragma GCC unroll 8
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* c = C + r * ldc + v * kVL;
      const __m256i m = v == NV - 1 ? last : all;
      // alpha == 1 (the common case) costs no multiply on the FMA ports
      __m256 x = alpha == 1.0f ? acc[r][v] : _mm256_mul_ps(va, acc[r][v]);
      if (beta != 0.0f) x = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c, m), x);
      _mm256_maskstore_ps(c, m, x);
    }
  }
}

struct KernelAvx2 {
  static constexpr int MR = 6, NV = 2, NR = NV * kVL;
  using Fn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, float, float,
                      __m256i);
  struct Table {
    Fn f[2][MR][NV];
    template <int R, int... V>
    constexpr void row(std::integer_sequence<int, V...>) {
      ((f[0][R][V] = &ukr_avx2<MR, R + 1, V + 1, false>), ...);
      ((f[1][R][V] = &ukr_avx2<MR, R + 1, V + 1, true>), ...);
    }
    template <int... R>
    constexpr explicit Table(std::integer_sequence<int, R...>) : f{} {
      (row<R>(std::make_integer_sequence<int, NV>{}), ...);
    }
  };

  static void tile(int rows, int cols, int64_t kc, const float* Ap, const float* Bp, int64_t ldbp,
                   bool b_packed, float* C, int64_t ldc, float alpha, float beta) {
    static const Table table(std::make_integer_sequence<int, MR>{});
    const int nv = (cols + kVL - 1) / kVL;
    const bool maskb = !b_packed && cols % kVL != 0;
    table.f[maskb][rows - 1][nv - 1](kc, Ap, Bp, ldbp, C, ldc, alpha, beta, lane_mask(cols - (nv - 1) * kVL));
  }
};

// 16 KB B panel in the 48 KB L1; 0.94 MB A block in the 2 MB L2.
constexpr Blocking kBlockingAvx2{/*mc=*/960, /*kc=*/256, /*nc=*/4096};

}  // namespace

void gemm_packed_avx2(const GemmArgs& g) {
  gemm_packed_driver<KernelAvx2>(g, kBlockingAvx2, num_threads());
}

// FMA peak probe (fma_probe.h) with __m256.
double fma_peak_gflops_avx2(double seconds) {
  return fma_peak_probe<__m256>(
      seconds, kVL, [](float x) { return _mm256_set1_ps(x); },
      [](__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); },
      [](__m256 v) { return _mm256_cvtss_f32(v); });
}

}  // namespace nk
