// gemm_narrow_avx512.cpp - narrow_avx512: SGEMM for narrow outputs (small N), vectorised along M.
//
// Size letters as in gemm.h: C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C.
// Variant defined here (registered in gemm.cpp; the dispatcher picks it for narrow N, see gemm.cpp):
//   narrow_avx512 - C is computed in tiles of 32 rows x NB <= 14 columns; each accumulator holds 16
//                   rows of one C column, so every FMA uses all 16 lanes whatever N is.
//
// Shapes it is for: the output layer of every classifier (Dense(10): X(64x512) . W(512x10), and its
// weight gradient X^T . dY, 512x64x10 with trans_a) and im2col convolutions with few output channels
// (LeNet conv1 36864x25x6, conv2 4096x150x16). The packed variants vectorise along N: with N = 10 a
// zmm FMA does 10/16 useful lanes, with N = 6 only 6/16.
//
// Math, per 32-row tile (rows i0..i0+31) and column chunk j0..j0+NB-1:
//   for k:  a0, a1 = op(A)[i0:i0+16][k], op(A)[i0+16:i0+32][k]           (2 zmm)
//           for j < NB:  b = broadcast op(B)[k][j0+j];  acc0[j] += a0*b;  acc1[j] += a1*b
//   2*NB accumulators (<= 28 zmm), per k 2 loads + NB broadcasts feed 2*NB FMAs.
// op(A)'s column k for 32 rows is contiguous only with trans_a (row k of stored A, read in place with a
// masked load at the M edge). Without trans_a the 32 x K block of A is first transposed into a k-major
// scratch sliver (pack_a<32> of gemm_packed.h, 8x8 in-register transposes), which the column chunks
// then share. The whole K is reduced in registers (no K blocking: the sliver, 128 B per k, streams
// from L1/L2 at 2 loads per 2*NB FMAs). N > 14 is cut into balanced chunks (16 -> 8 + 8, 24 -> 12 + 12),
// each re-reading the A column stream; correct for any N, fast only for narrow N.
// Store: each 16 x NB accumulator block is transposed in registers (16x16 transpose, columns past NB
// zero) into 16 C rows, written with a lane mask (NB lanes); alpha, and beta only when beta != 0 (so a
// NaN-filled C with beta == 0 is never read).
// Threads: OpenMP over 32-row tiles (contiguous ranges, thread_range) when the product is >= 4 MFLOP
// and we are not already inside a parallel region, as in the packed driver. Each C element is summed
// in the same order whatever the thread count.
//
// Measured (2-core Zen 4 VM, AVX-512 as 2x256-bit, FMA peak 118 GFLOPS/core; bench/gemm.py ratios
// nk / OpenBLAS 0.3.31, interleaved; before = packed_avx512, after = this variant via dispatch):
//   shape (MxKxN)                     1 thread before -> after     2 threads before -> after
//   MLP out 64x512x10                      0.53 -> 1.03                 0.49 -> 1.03
//   LeNet conv1 im2col 36864x25x6          0.56 -> 1.25                 0.46 -> 1.26
//   LeNet conv2 im2col 4096x150x16         0.66 -> 0.96                 0.57 -> 0.98
// and against packed_avx512 directly at 1 thread (GFLOPS narrow / packed): 512x64x10 A^T.B 91 / 38,
// 150x4096x16 A^T.B 99 / 55, 25x36864x6 A^T.B 87 / 20, 1000x512x24 85 / 53, 1000x512x48 94 / 81,
// 64x512x32 87 / 69, 16x512x10 31 / 21. It loses with few rows (8x512x10 16 / 20, 6x36864x25 A^T.B
// 21 / 37: the 32-row tile is mostly empty) and at wide N (64x10x512 A.B^T 51 / 65), which is where the
// dispatcher (gemm.cpp) keeps packed_avx512: narrow_avx512 only for N <= 48 and M >= 16.
// Products under 4 MFLOP stay on one thread, so 2-thread ratios of small rows equal 1-thread ones.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "cpu/gemm_packed.h"

namespace nk {
namespace {

constexpr int kRows = 32;   // C rows per tile: two zmm of 16
constexpr int kMaxNB = 14;  // columns per chunk: 2 * 14 = 28 accumulators + 2 A vectors + broadcast

// In-register transpose of 16 vectors (rows r[0..15], lanes = columns) into r[c][lane] = in[lane][c].
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < 4; ++i) {
      t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0x88);
      t[8 * h + 4 + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0xDD);
    }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
  }
}

// Write a 16 x NB block held as acc[j] (lane r = row r of column j) to C rows 0..rows-1 (rows <= 16).
template <int NB>
inline void store_block(const __m512 (&acc)[NB], int rows, float* C, int64_t ldc, float alpha, float beta) {
  __m512 r[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; ++j) r[j] = j < NB ? acc[j] : _mm512_setzero_ps();
  transpose16(r);
  const __mmask16 m = static_cast<__mmask16>((1u << NB) - 1u);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int i = 0; i < rows; ++i) {
    float* c = C + i * ldc;
    __m512 x = alpha == 1.0f ? r[i] : _mm512_mul_ps(va, r[i]);
    if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c), x);
    _mm512_mask_storeu_ps(c, m, x);
  }
}

// C[rows, NB] = alpha * sum_k a[k][0:32] (x) b[k][0:NB] + beta * C.
// a: column k of the tile at a + k * a_ld (32 floats; lanes outside m0/m1 are not loaded);
// b: op(B)[k][j] at b + k * b_k + j * b_j; C: [rows][ldc].
template <int NB>
void narrow_tile(int64_t K, const float* __restrict a, int64_t a_ld, __mmask16 m0, __mmask16 m1,
                 const float* __restrict b, int64_t b_k, int64_t b_j, int rows, float* C, int64_t ldc,
                 float alpha, float beta) {
  __m512 acc0[NB], acc1[NB];
#pragma GCC unroll 14
  for (int j = 0; j < NB; ++j) acc0[j] = acc1[j] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t k = 0; k < K; ++k) {
    const __m512 a0 = _mm512_maskz_loadu_ps(m0, a), a1 = _mm512_maskz_loadu_ps(m1, a + 16);
#pragma GCC unroll 14
    for (int j = 0; j < NB; ++j) {
      const __m512 bj = _mm512_set1_ps(b[j * b_j]);
      acc0[j] = _mm512_fmadd_ps(a0, bj, acc0[j]);
      acc1[j] = _mm512_fmadd_ps(a1, bj, acc1[j]);
    }
    a += a_ld;
    b += b_k;
  }
  store_block<NB>(acc0, std::min(rows, 16), C, ldc, alpha, beta);
  if (rows > 16) store_block<NB>(acc1, rows - 16, C + 16 * ldc, ldc, alpha, beta);
}

using TileFn = void (*)(int64_t, const float*, int64_t, __mmask16, __mmask16, const float*, int64_t,
                        int64_t, int, float*, int64_t, float, float);

template <int... NB>
constexpr std::array<TileFn, sizeof...(NB)> tile_table(std::integer_sequence<int, NB...>) {
  return {&narrow_tile<NB + 1>...};
}

inline __mmask16 lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1u);
}

// Tiles [t_begin, t_end) of 32 rows, all columns.
void narrow_rows(const GemmArgs& g, int64_t t_begin, int64_t t_end) {
  static constexpr auto table = tile_table(std::make_integer_sequence<int, kMaxNB>{});
  const int64_t chunks = (g.N + kMaxNB - 1) / kMaxNB;
  // op(B)[k][j]: B stored (K, N) -> B[k * ldb + j]; stored (N, K) -> B[j * ldb + k].
  const int64_t b_k = g.trans_b ? 1 : g.ldb, b_j = g.trans_b ? g.ldb : 1;
  float* Ap = g.trans_a ? nullptr : scratch(1, kRows * g.K);
  for (int64_t t = t_begin; t < t_end; ++t) {
    const int64_t i0 = t * kRows;
    const int rows = static_cast<int>(std::min<int64_t>(kRows, g.M - i0));
    const float* a;
    int64_t a_ld;
    __mmask16 m0, m1;
    if (g.trans_a) {  // op(A)[i][k] = A[k * lda + i]: column k of the tile is contiguous
      a = g.A + i0, a_ld = g.lda, m0 = lanes(rows), m1 = lanes(rows - 16);
    } else {          // transpose the 32 x K block into Ap[k][32] (rows past M zero-filled)
      pack_a<kRows>(Ap, g, i0, rows, 0, g.K, 0, 1);
      a = Ap, a_ld = kRows, m0 = m1 = 0xFFFF;
    }
    for (int64_t c = 0; c < chunks; ++c) {  // balanced column chunks of <= kMaxNB
      const int64_t j0 = g.N * c / chunks, j1 = g.N * (c + 1) / chunks;
      const float* b = g.B + j0 * b_j;
      table[j1 - j0 - 1](g.K, a, a_ld, m0, m1, b, b_k, b_j, rows, g.C + i0 * g.ldc + j0, g.ldc, g.alpha,
                         g.beta);
    }
  }
}

}  // namespace

void gemm_narrow_avx512(const GemmArgs& g) {
  if (g.M <= 0 || g.N <= 0) return;
  const int64_t tiles = (g.M + kRows - 1) / kRows;
  // One thread below 4 MFLOP or inside another parallel region (see the threading note in
  // gemm_packed.h: a 2-thread region stalls on a busy machine more than it saves on small products).
  int nt = 2.0 * g.M * g.N * g.K < 4.0e6 || tiles < 2 ? 1 : num_threads();
#ifdef NK_OPENMP
  if (omp_in_parallel()) nt = 1;
#endif
  if (nt == 1) {
    narrow_rows(g, 0, tiles);
    return;
  }
#ifdef NK_OPENMP
#pragma omp parallel num_threads(nt)
  {
    int64_t b, e;
    thread_range(tiles, 1, &b, &e);
    narrow_rows(g, b, e);
  }
#else
  narrow_rows(g, 0, tiles);
#endif
}

}  // namespace nk
