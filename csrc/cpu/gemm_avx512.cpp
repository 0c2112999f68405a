// gemm_avx512.cpp - packed_avx512: Goto/BLIS-blocked SGEMM with an AVX-512 FMA micro-kernel.
//
// Size letters as in gemm.h: C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C.
// Variant defined here (registered in gemm.cpp):
//   packed_avx512 - A packed in MR=14-row slivers, B in NR=32-column panels (or read in place when
//                   M is small), 14x32 register tile = 28 zmm accumulators, masked N edges,
//                   threads claim groups of B panels / A slivers.
// Blocking, packing and threading live in gemm_packed.h (shared with the AVX2 variant).
//
// Why 14x32 on this machine (Sapphire Rapids class, 2 zmm FMA ports, 4-cycle latency): 2*4 = 8
// independent chains keep the FMA ports busy; 28 accumulators leave 4 registers for the two B vectors
// and a broadcast. Per k step: 2 vector loads + 14 broadcasts (16 loads, 2/cycle) feed 28 FMAs
// (14 cycles), so loads never limit (12x32, 8x48 and 6x64 tiles measured the same or slower).
// Cache blocks, chosen by measurement on this machine (L1d 48 KB, L2 2 MB): KC = MC = 448 (the
// 0.8 MB A block sits in L2; the 56 KB B panel mostly in L1, and the 128 B per k step the kernel
// needs from it stream fine from L2). KC = 256 / MC = 896 (a B panel that fits L1) measured 3-5 %
// slower at 2048^3: fewer passes over C matter more. OpenBLAS's SkylakeX blocking is also 448 x 448.
// Also here: the zmm FMA peak probe for the benchmark.
#include <immintrin.h>

#include <chrono>
#include <utility>

#include "cpu/fma_probe.h"
#include "cpu/gemm_packed.h"

namespace nk {
namespace {

constexpr int kVL = 16;  // floats per zmm

// C[ROWS, NV*16 (last vector masked by `last`)] = alpha * sum_k Ap[k][0:ROWS] (x) B[k][0:NV*16] + beta*C
// Ap: [kc][MR] packed A sliver; B: [kc][ldb] (packed panel with ldb = NR, or B itself in rv mode);
// C: [ROWS][ldc].
template <int MR, int ROWS, int NV>
void ukr_avx512(int64_t kc, const float* __restrict Ap, const float* __restrict B, int64_t ldb,
                float* __restrict C, int64_t ldc, float alpha, float beta, __mmask16 last) {
  __m512 acc[ROWS][NV];
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  // The C tile is touched only after the k loop; start pulling it into L1 now (it is usually in L3).
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NV * kVL - 1), _MM_HINT_T1);
  }

#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      b[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, B + v * kVL) : _mm512_loadu_ps(B + v * kVL);
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
      const __m512 a = _mm512_set1_ps(Ap[r]);  // broadcast op(A)[i+r][k]
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
    _mm_prefetch(reinterpret_cast<const char*>(Ap + 16 * MR), _MM_HINT_T0);  // A, 16 k steps ahead
    Ap += MR;
    B += ldb;
  }

  // Epilogue: C = alpha*acc (+ beta*C only when beta != 0, so NaN garbage in C is never read).
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* c = C + r * ldc + v * kVL;
      const __mmask16 m = v == NV - 1 ? last : static_cast<__mmask16>(0xFFFF);
      // alpha == 1 (the common case) costs no multiply on the FMA ports
      __m512 x = alpha == 1.0f ? acc[r][v] : _mm512_mul_ps(va, acc[r][v]);
      if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c), x);
      _mm512_mask_storeu_ps(c, m, x);
    }
  }
}

struct KernelAvx512 {
  static constexpr int MR = 14, NV = 2, NR = NV * kVL;
  using Fn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, float, float,
                      __mmask16);

  template <int R, int V>
  static constexpr Fn entry() { return &ukr_avx512<MR, R + 1, V + 1>; }
  template <int R, int... V>
  static constexpr void row(Fn (&t)[NV], std::integer_sequence<int, V...>) {
    ((t[V] = entry<R, V>()), ...);
  }
  struct Table {
    Fn f[MR][NV];
    template <int... R>
    constexpr explicit Table(std::integer_sequence<int, R...>) : f{} {
      (row<R>(f[R], std::make_integer_sequence<int, NV>{}), ...);
    }
  };

  static void tile(int rows, int cols, int64_t kc, const float* Ap, const float* Bp, int64_t ldbp,
                   bool /*b_packed: masked loads cost nothing extra here*/, float* C, int64_t ldc,
                   float alpha, float beta) {
    static const Table table(std::make_integer_sequence<int, MR>{});
    const int nv = (cols + kVL - 1) / kVL;
    const int tail = cols - (nv - 1) * kVL;  // 1..16 lanes in the last vector
    const __mmask16 last = static_cast<__mmask16>((1u << tail) - 1u);
    table.f[rows - 1][nv - 1](kc, Ap, Bp, ldbp, C, ldc, alpha, beta, last);
  }
};

// L1 48 KB, L2 2 MB per core on this Xeon (see the header for how these were chosen).
constexpr Blocking kBlockingAvx512{/*mc=*/448, /*kc=*/448, /*nc=*/4096};

}  // namespace

void gemm_packed_avx512(const GemmArgs& g) {
  gemm_packed_driver<KernelAvx512>(g, kBlockingAvx512, num_threads());
}

// FMA peak probe (fma_probe.h) with __m512.
double fma_peak_gflops_avx512(double seconds) {
  return fma_peak_probe<__m512>(
      seconds, kVL, [](float x) { return _mm512_set1_ps(x); },
      [](__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); },
      [](__m512 v) { return _mm512_cvtss_f32(v); });
}

}  // namespace nk
