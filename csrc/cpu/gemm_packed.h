// gemm_packed.h - the ISA-independent half of the packed SGEMM variants: cache blocking, packing,
// threading. Included only by gemm.cpp (portable kernel), gemm_avx2.cpp and gemm_avx512.cpp, each of
// which supplies a Kernel (micro-kernel + register tile) and compiles this driver with its own ISA
// flags. Everything here sits in an anonymous namespace so the builds never merge at link time (ODR).
//
// Size letters: M rows of C, N columns of C, K the reduction length (C[M,N] = op(A)[M,K] @ op(B)[K,N]).
// Register tile MR x NR (NR = NV vectors of VL floats along N, the contiguous dimension of C).
// Cache blocks (Goto & van de Geijn 2008, BLIS's five loops):
//
//   for jc in N step NC:                  B block KC x NC lives in L3
//     for pc in K step KC:                pack B block -> panels of NR columns, k-major (Bp[k][NR])
//       for ic in M step MC:              pack A block -> slivers of MR rows, k-major (Ap[k][MR]);
//                                         the MC x KC A block (~0.8-1 MB) stays in L2
//         for jr in nc step NR:           one KC x NR B panel stays in L1 (or L2) across ...
//           for ir in mc step MR:         ... every A sliver: micro-kernel, C tile in registers
//
// Both transposes are absorbed by the packing routines; the micro-kernel always sees Ap[k][MR] and
// Bp[k][NR]. The "rv" mode skips packing B when op(B) = B is row-major and M is small: the kernel
// then reads rows of B in place (stride ldb), which saves a full read+write of the large operand.
// Edges: the last sliver has rows < MR (a kernel instantiated for that row count) and the last panel
// has fewer columns (fewer vectors plus a lane mask on the last one); packed B is zero-padded.
// alpha/beta are applied once per C tile store; for pc > 0 the kernel accumulates (beta = 1).
// beta == 0 never reads C.
// Threads (OpenMP, one parallel region per call; one thread below 4 MFLOP or inside another
// parallel region): packing units (groups of B panels / A slivers) and compute units (a group of B
// panels x all slivers, or of slivers x all panels when N is narrow) are claimed from per-step
// atomic counters, no barriers.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "core/parallel.h"
#include "cpu/gemm.h"

namespace nk {
namespace {

struct Blocking {
  int64_t mc, kc, nc;
};

// Packing scratch per calling thread, grown on demand and kept: allocating (and page-faulting) a
// fresh megabyte per call costs more than a small GEMM. Aligned to 2 MB so that with transparent huge
// pages the ~1 MB A block sits in one huge page (fewer TLB misses while streaming it from L2).
inline float* scratch(int slot, int64_t floats) {
  struct Buf {
    float* p = nullptr;
    int64_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[2];
  Buf& b = bufs[slot];
  if (b.n < floats) {
    std::free(b.p);
    constexpr int64_t kHuge = int64_t(2) << 20;
    int64_t bytes = (floats * 4 + kHuge - 1) / kHuge * kHuge;
    b.p = static_cast<float*>(std::aligned_alloc(kHuge, bytes));
    if (!b.p) throw std::bad_alloc();
    b.n = bytes / 4;
  }
  return b.p;
}

#if defined(__AVX2__)
// Transpose-copy an 8 x kc8 block (kc8 a multiple of 8): src row r (of `rows` <= 8 valid rows, rows
// ld apart) becomes lane r of dst[k * dld + 0..7]; lanes >= rows are written as zeros. Classic
// 8x8 in-register transpose (unpack, shuffle, 128-bit permute), 24 shuffles per 64 floats.
inline void transpose8_rows(float* dst, int64_t dld, const float* src, int64_t ld, int rows, int64_t kc8,
                            int store_lanes) {
  const __m256i store_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(store_lanes),
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int64_t k = 0; k < kc8; k += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + i * ld + k) : _mm256_setzero_ps();
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    __m256 o[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                   _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                   _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                   _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
    for (int i = 0; i < 8; ++i) {
      if (store_lanes == 8) _mm256_storeu_ps(dst + (k + i) * dld, o[i]);
      else _mm256_maskstore_ps(dst + (k + i) * dld, store_mask, o[i]);
    }
  }
}
#endif

// Pack op(A)[i0:i0+mc, p0:p0+kc] into slivers of MR rows: Ap[s][k][r] = op(A)[i0 + s*MR + r][p0 + k].
// Rows past mc in the last sliver are zero-filled (the portable kernel computes the full tile).
template <int MR>
void pack_a(float* Ap, const GemmArgs& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            int64_t s_begin, int64_t s_end) {
  for (int64_t s = s_begin; s < s_end; ++s) {
    float* dst = Ap + s * MR * kc;
    int64_t r0 = i0 + s * MR, rows = std::min<int64_t>(MR, i0 + mc - r0);
    if (g.trans_a) {  // A stored (K, M): for each k the MR values are contiguous
      const float* src = g.A + p0 * g.lda + r0;
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t r = 0; r < rows; ++r) dst[k * MR + r] = src[k * g.lda + r];
        for (int64_t r = rows; r < MR; ++r) dst[k * MR + r] = 0.0f;
      }
      continue;
    }
    // A stored (M, K): a small transpose, row r is contiguous along k.
    const float* src = g.A + r0 * g.lda + p0;
    int64_t k_done = 0;
#if defined(__AVX2__)
    k_done = kc / 8 * 8;
    for (int r = 0; r < MR; r += 8) {  // groups of 8 rows (the last group of MR may be narrower)
      const int lanes = std::min(8, MR - r);
      const int valid = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(lanes, rows - r)));
      transpose8_rows(dst + r, MR, src + r * g.lda, g.lda, valid, k_done, lanes);
    }
#endif
    for (int64_t r = 0; r < MR; ++r) {
      const float* row = src + r * g.lda;
      for (int64_t k = k_done; k < kc; ++k) dst[k * MR + r] = r < rows ? row[k] : 0.0f;
    }
  }
}

// Pack op(B)[p0:p0+kc, j0:j0+nc] into panels of NR columns: Bp[q][k][c] = op(B)[p0 + k][j0 + q*NR + c],
// zero-padded past nc so the kernel can load full vectors.
template <int NR>
void pack_b(float* Bp, const GemmArgs& g, int64_t j0, int64_t nc, int64_t p0, int64_t kc,
            int64_t q_begin, int64_t q_end) {
  static_assert(NR % 8 == 0, "the transposing copy works on groups of 8 columns");
  for (int64_t q = q_begin; q < q_end; ++q) {
    float* dst = Bp + q * NR * kc;
    int64_t c0 = j0 + q * NR, cols = std::min<int64_t>(NR, j0 + nc - c0);
    if (!g.trans_b) {  // B stored (K, N): copy row segments
      const float* src = g.B + p0 * g.ldb + c0;
      for (int64_t k = 0; k < kc; ++k) {
        float* d = dst + k * NR;
        const float* s = src + k * g.ldb;
        for (int64_t c = 0; c < cols; ++c) d[c] = s[c];
        for (int64_t c = cols; c < NR; ++c) d[c] = 0.0f;
      }
    } else {           // B stored (N, K): column c of op(B) is row c0 + c of B, contiguous along k
      const float* src = g.B + c0 * g.ldb + p0;
      int64_t k_done = 0;
#if defined(__AVX2__)
      k_done = kc / 8 * 8;
      for (int c = 0; c < NR; c += 8) {  // 8 columns at a time; columns >= cols become zeros
        const int valid = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(8, cols - c)));
        transpose8_rows(dst + c, NR, src + c * g.ldb, g.ldb, valid, k_done, 8);
      }
#endif
      for (int64_t c = 0; c < NR; ++c)
        for (int64_t k = k_done; k < kc; ++k) dst[k * NR + c] = c < cols ? src[c * g.ldb + k] : 0.0f;
    }
  }
}

// Per-step work counters of the packed driver (see gemm_packed_driver).
struct StepCounters {
  std::atomic<int64_t> pack_claim{0}, pack_done{0}, comp_claim{0}, comp_done{0};
};

// Wait until counter >= target: spin (pause) for up to ~1 ms, then also yield the core. The waits
// are normally microseconds (the other thread finishing a unit). Yielding early is a trap on a loaded
// machine: the scheduler hands the core to another process for a whole time slice (measured: every
// 2-thread call stalled 4-20 ms with a 256-pause spin). Only a wait that long means the other thread
// lost its core, and then yielding costs us nothing.
inline void wait_for(const std::atomic<int64_t>& counter, int64_t target) {
  for (int spin = 0; counter.load(std::memory_order_acquire) < target; ++spin) {
    if (spin < (1 << 14)) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

// Kernel must provide:
//   static constexpr int MR, NR;   register tile
//   static void tile(int rows, int cols, int64_t kc, const float* Ap, const float* Bp, int64_t ldbp,
//                    bool b_packed, float* C, int64_t ldc, float alpha, float beta);
//     C[rows, cols] = alpha * Ap[kc][MR] . Bp[kc][ldbp] + beta * C  (beta == 0: C not read),
//     rows <= MR, cols <= NR; Bp rows are ldbp floats apart (NR when packed, ldb in rv mode);
//     b_packed = false means Bp is the caller's B, so no load may touch columns >= cols.
template <class Kernel>
void gemm_packed_driver(const GemmArgs& g, const Blocking& blk, int max_threads) {
  constexpr int MR = Kernel::MR, NR = Kernel::NR;
  const int64_t M = g.M, N = g.N, K = g.K;
  if (M <= 0 || N <= 0) return;
  // K == 0 is handled by the dispatcher; guard anyway so a direct call stays well defined.
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float* c = &g.C[i * g.ldc + j];
        *c = g.beta == 0.0f ? 0.0f : g.beta * *c;
      }
    return;
  }
  // Blocks of equal size rather than full blocks plus a thin remainder (K = 400 -> 2 x 200, not
  // 256 + 144): the same number of C passes, and no short last pass that is all overhead.
  // When K is short the A and B blocks hold fewer k rows, so they may span more rows / columns in the
  // same cache budget (mc*kc and kc*nc floats): an im2col-like 36864 x 25 A is then 5 blocks, not 83
  // tiny steps.
  const int64_t KC = (K + (K + blk.kc - 1) / blk.kc - 1) / ((K + blk.kc - 1) / blk.kc);
  const int64_t mc_max = std::max<int64_t>(blk.mc, blk.mc * blk.kc / KC / MR * MR);
  const int64_t nc_max = std::max<int64_t>(blk.nc, blk.nc * blk.kc / KC / NR * NR);
  const int64_t m_blocks = (M + mc_max - 1) / mc_max;
  const int64_t MC = ((M + m_blocks - 1) / m_blocks + MR - 1) / MR * MR;
  const int64_t NC = std::min<int64_t>(nc_max, (N + NR - 1) / NR * NR);

  // rv mode: B row-major and at most 8 slivers of A to reuse a packed B panel -> read B in place.
  // Measured at M = 64 and 100 (K, N = 512..784): packing B then costs more than it saves, mostly
  // with 2 threads (the packing pass is memory-bound and everyone waits for it to finish).
  const bool pack_b_needed = g.trans_b || M > 8 * MR;

  // Threads: one for small products, else up to max_threads. A parallel region costs a few us, and
  // on a shared machine its join waits for a worker that may not get a core for milliseconds:
  // measured here at 3 MFLOP (32x400x120), 2 threads won on the best call (25 vs 30 us) but lost
  // badly on the median (8 ms stalls), so products below 4 MFLOP stay on the calling thread.
  const double flops = 2.0 * M * N * K;
  int nt = flops < 4.0e6 ? 1 : max_threads;
#ifdef NK_OPENMP
  if (omp_in_parallel()) nt = 1;  // called from inside another kernel's parallel loop
#endif
  float* Bp = pack_b_needed ? scratch(0, KC * NC) : nullptr;
  float* Ap = scratch(1, MC * KC);

  // Threads never meet at a barrier. Each (jc, pc, ic) step has its own claim/done counters:
  // threads claim packing units (B panels at the first ic of a pc, then A slivers), wait until all
  // are packed, claim compute units, and before the next step's packing overwrites the buffers (and
  // its kernels accumulate into the same C tiles) wait until every compute unit of this step is done.
  // A thread that loses its core on a shared machine therefore holds back at most the unit it is
  // working on, and a worker that starts late finds the work done and falls straight through. Which
  // thread computes a tile never changes the arithmetic (each C tile sums in the same order), so
  // results do not depend on the thread count.
  const int64_t steps = ((N + NC - 1) / NC) * ((K + KC - 1) / KC) * ((M + MC - 1) / MC);
  StepCounters local[8];  // most calls have few steps: no heap allocation for them
  std::unique_ptr<StepCounters[]> heap(steps > 8 ? new StepCounters[steps] : nullptr);
  StepCounters* sync = steps > 8 ? heap.get() : local;

  // Work units per phase: enough for dynamic balance (8 per thread), few enough that claiming one
  // (an atomic on a shared cache line) stays negligible next to the work it hands out.
  const int64_t max_units = 8 * nt;

  auto body = [&]() {
    int64_t step = 0, prev_units = 0;
    for (int64_t jc = 0; jc < N; jc += NC) {
      const int64_t nc = std::min(NC, N - jc);
      const int64_t panels = (nc + NR - 1) / NR;
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = std::min(KC, K - pc);
        const float beta = pc == 0 ? g.beta : 1.0f;
        for (int64_t ic = 0; ic < M; ic += MC, ++step) {
          StepCounters& st = sync[step];
          const int64_t mc = std::min(MC, M - ic);
          const int64_t slivers = (mc + MR - 1) / MR;
          if (step > 0) wait_for(sync[step - 1].comp_done, prev_units);
          // Packing: B panels first (only when this pc's B block is new), then A slivers, each cut
          // into at most max_units contiguous groups (one atomic claim per group, not per sliver).
          const int64_t b_units = ic == 0 && pack_b_needed ? std::min(panels, max_units) : 0;
          const int64_t a_units = std::min(slivers, max_units);
          const int64_t pack_units = b_units + a_units;
          for (int64_t u; (u = st.pack_claim.fetch_add(1, std::memory_order_relaxed)) < pack_units;) {
            if (u < b_units) {
              pack_b<NR>(Bp, g, jc, nc, pc, kc, panels * u / b_units, panels * (u + 1) / b_units);
            } else {
              const int64_t v = u - b_units;
              pack_a<MR>(Ap, g, ic, mc, pc, kc, slivers * v / a_units, slivers * (v + 1) / a_units);
            }
            st.pack_done.fetch_add(1, std::memory_order_release);
          }
          wait_for(st.pack_done, pack_units);
          // A compute unit is a group of B panels x all A slivers (split N) when there are enough
          // panels, else a group of A slivers x all B panels (split M).
          const bool split_n = panels >= 2 * nt || slivers < nt;
          const int64_t parts = split_n ? panels : slivers;
          const int64_t units = std::min(parts, max_units);
          for (int64_t u; (u = st.comp_claim.fetch_add(1, std::memory_order_relaxed)) < units;) {
            const int64_t lo = parts * u / units, hi = parts * (u + 1) / units;
            const int64_t qb = split_n ? lo : 0, qe = split_n ? hi : panels;
            const int64_t sb = split_n ? 0 : lo, se = split_n ? slivers : hi;
            for (int64_t q = qb; q < qe; ++q) {
              const int64_t j = jc + q * NR;
              const int cols = static_cast<int>(std::min<int64_t>(NR, N - j));
              const float* bq = pack_b_needed ? Bp + q * NR * kc : g.B + pc * g.ldb + j;
              const int64_t ldbp = pack_b_needed ? NR : g.ldb;
              for (int64_t s = sb; s < se; ++s) {
                const int64_t i = ic + s * MR;
                const int rows = static_cast<int>(std::min<int64_t>(MR, M - i));
                Kernel::tile(rows, cols, kc, Ap + s * MR * kc, bq, ldbp, pack_b_needed,
                             g.C + i * g.ldc + j, g.ldc, g.alpha, beta);
              }
            }
            st.comp_done.fetch_add(1, std::memory_order_release);
          }
          prev_units = units;
        }
      }
    }
    // Every thread leaves only when the last step is complete (its C tiles are written).
    wait_for(sync[steps - 1].comp_done, prev_units);
  };

  if (nt == 1) {  // no parallel region at all: even an if(false) one costs ~0.5 us per call
    body();
    return;
  }
#ifdef NK_OPENMP
#pragma omp parallel num_threads(nt)
  body();
#else
  body();
#endif
}

}  // namespace
}  // namespace nk
