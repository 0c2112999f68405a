// gemm.cpp - SGEMM: reference loop, the portable blocked variant, the variant registry / dispatcher.
//
// Size letters: M rows of C, N columns of C, K the reduction length.
//   C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C   (row-major, leading dimensions lda/ldb/ldc)
// Variants (registered in gemm_variants(), simplest first):
//   naive          - triple loop over (i, j, k); the reference.
//   packed_scalar  - Goto/BLIS blocking + packing (gemm_packed.h) with a portable 4x8 C++ kernel
//                    the compiler vectorises for baseline x86-64 (SSE2); for the scalar ISA path.
//   packed_avx2    - same driver, 6x16 AVX2+FMA micro-kernel (gemm_avx2.cpp).
//   packed_avx512  - same driver, 14x32 AVX-512 micro-kernel (gemm_avx512.cpp).
//   narrow_avx512  - vectorised along M (32 x <=14 tiles) for narrow outputs (gemm_narrow_avx512.cpp).
// Dispatch (gemm_dispatch): narrow_avx512 on AVX-512 when N <= 48 and M >= 16, else the last
// registered packed variant the active ISA can run.
// All variants: beta == 0 never reads C; both transposes; any M, N, K >= 1 (the dispatcher and
// gemm_variant() handle empty M/N and K == 0 before calling a variant).
#include "cpu/gemm.h"

#include <chrono>
#include <string>

#include "core/errors.h"
#include "cpu/gemm_packed.h"

namespace nk {

void gemm_naive(const GemmArgs& g) {
  for (int64_t i = 0; i < g.M; ++i) {
    for (int64_t j = 0; j < g.N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < g.K; ++k) {
        float a = g.trans_a ? g.A[k * g.lda + i] : g.A[i * g.lda + k];
        float b = g.trans_b ? g.B[j * g.ldb + k] : g.B[k * g.ldb + j];
        acc += a * b;
      }
      float* c = &g.C[i * g.ldc + j];
      *c = g.beta == 0.0f ? g.alpha * acc : g.alpha * acc + g.beta * *c;
    }
  }
}

namespace {

// Portable micro-kernel: C[rows, cols] = alpha * Ap[kc][MR] . B[kc][ldb] + beta * C, with Ap/B/C as
// in gemm_packed.h. The fixed-width inner loop over NR columns is what the compiler vectorises.
struct KernelScalar {
  static constexpr int MR = 4, NR = 8;
  static void tile(int rows, int cols, int64_t kc, const float* __restrict Ap, const float* __restrict B,
                   int64_t ldb, bool b_packed, float* C, int64_t ldc, float alpha, float beta) {
    float acc[MR][NR] = {};
    if (b_packed) {  // zero-padded panel, zero-padded sliver: the full MR x NR tile, fixed trip counts
      for (int64_t k = 0; k < kc; ++k, Ap += MR, B += ldb)
        for (int r = 0; r < MR; ++r)
          for (int c = 0; c < NR; ++c) acc[r][c] += Ap[r] * B[c];
    } else {         // caller's B: never read past column `cols`
      for (int64_t k = 0; k < kc; ++k, Ap += MR, B += ldb)
        for (int r = 0; r < MR; ++r)
          for (int c = 0; c < cols; ++c) acc[r][c] += Ap[r] * B[c];
    }
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        float* out = C + r * ldc + c;
        *out = beta == 0.0f ? alpha * acc[r][c] : alpha * acc[r][c] + beta * *out;
      }
  }
};

constexpr Blocking kBlockingScalar{/*mc=*/256, /*kc=*/256, /*nc=*/4096};

}  // namespace

void gemm_packed_scalar(const GemmArgs& g) {
  gemm_packed_driver<KernelScalar>(g, kBlockingScalar, num_threads());
}

const std::vector<GemmVariant>& gemm_variants() {
  static const std::vector<GemmVariant> table = {
      {"naive", Isa::scalar, "triple loop over (i, j, k); the reference", &gemm_naive},
      {"packed_scalar", Isa::scalar,
       "Goto/BLIS blocking and packing with a portable 4x8 C++ kernel (compiler-vectorised SSE2)",
       &gemm_packed_scalar},
      {"packed_avx2", Isa::avx2,
       "Goto/BLIS blocking and packing, 6x16 AVX2+FMA micro-kernel (12 ymm accumulators)",
       &gemm_packed_avx2},
      {"packed_avx512", Isa::avx512,
       "Goto/BLIS blocking and packing, 14x32 AVX-512 micro-kernel (28 zmm accumulators), masked edges",
       &gemm_packed_avx512},
      // narrow_avx512 stays last: gemm_dispatch takes it as gemm_variants().back()
      {"narrow_avx512", Isa::avx512,
       "narrow N: vectorised along M, 32 x <=14 register tile (28 zmm), A transposed per 32-row sliver",
       &gemm_narrow_avx512},
  };
  return table;
}

const GemmVariant& gemm_find_variant(const char* name) {
  std::string known;
  for (const auto& v : gemm_variants()) {
    if (std::string(v.name) == name) {
      NK_CHECK(static_cast<int>(v.isa) <= static_cast<int>(active_isa()), "gemm variant '", name,
               "' needs ", isa_name(v.isa), " but the active ISA is ", isa_name(active_isa()));
      return v;
    }
    known += (known.empty() ? "" : ", ") + std::string(v.name);
  }
  throw std::invalid_argument(msg("unknown gemm variant '", name, "': choose one of ", known));
}

namespace {
// Shapes no variant needs to handle: empty C, or K == 0 (the empty sum: C = beta * C).
bool gemm_trivial(const GemmArgs& g) {
  if (g.M == 0 || g.N == 0) return true;
  if (g.K == 0) {
    for (int64_t i = 0; i < g.M; ++i)
      for (int64_t j = 0; j < g.N; ++j) {
        float* c = &g.C[i * g.ldc + j];
        *c = g.beta == 0.0f ? 0.0f : g.beta * *c;
      }
    return true;
  }
  return false;
}
}  // namespace

void gemm_variant(const char* name, const GemmArgs& args) {
  const GemmVariant& v = gemm_find_variant(name);
  if (!gemm_trivial(args)) v.fn(args);
}

void gemm(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
          bool trans_a, bool trans_b, float alpha, float beta, int64_t lda, int64_t ldb, int64_t ldc) {
  GemmArgs g{C, A, B, M, N, K,
             lda ? lda : (trans_a ? M : K), ldb ? ldb : (trans_b ? K : N), ldc ? ldc : N,
             trans_a, trans_b, alpha, beta};
  if (gemm_trivial(g)) return;
  gemm_dispatch(g).fn(g);
}

const GemmVariant& gemm_dispatch(const GemmArgs& g) {
  // Narrow outputs on AVX-512: narrow_avx512 fills all 16 lanes along M where the packed kernel fills
  // N/16 of them. Measured against packed_avx512 (1 thread, Zen 4; GFLOPS narrow / packed): 64x512x10
  // 64/30, 512x64x10 A^T.B 91/38, 36864x25x6 43/18, 4096x150x16 79/52, 1000x512x24 85/53,
  // 1000x512x48 94/81, 16x512x10 31/21; it loses with few rows (8x512x10 16/20, 6x36864x25 A^T.B
  // 21/37: a 32-row tile mostly empty) and at wide N (64x10x512 A.B^T 51/65).
  // This runs on every gemm call: the table entry is looked up once, and no strings are built.
  static const GemmVariant* const narrow = &gemm_variants().back();  // registered last, see the table
  if (active_isa() == Isa::avx512 && g.N <= 48 && g.M >= 16) return *narrow;
  // Otherwise the last registered packed variant the active ISA can run is the fastest general one.
  const GemmVariant* best = &gemm_variants().front();
  for (const auto& v : gemm_variants())
    if (&v != narrow && static_cast<int>(v.isa) <= static_cast<int>(active_isa())) best = &v;
  return *best;
}

namespace {
// Portable probe for the scalar path: 32 independent multiply-add chains (SSE2 mul + add).
double fma_peak_gflops_scalar(double seconds) {
  float acc[32];
  for (int i = 0; i < 32; ++i) acc[i] = 1e-3f * i;
  const float a = 0.999999f, b = 1e-7f;
  using clock = std::chrono::steady_clock;
  // Best rate over ~10 us chunks, like the best-of-N GEMM timings it is compared with: a chunk in
  // which another process took the core is simply not the best one.
  const auto t0 = clock::now();
  double best = 0.0, elapsed = 0.0;
  do {
    const auto c0 = clock::now();
    for (int rep = 0; rep < 4096; ++rep)
      for (int i = 0; i < 32; ++i) acc[i] = acc[i] * a + b;
    const auto c1 = clock::now();
    best = std::max(best, 4096.0 / std::chrono::duration<double>(c1 - c0).count());
    elapsed = std::chrono::duration<double>(c1 - t0).count();
  } while (elapsed < seconds);
  float s = 0.0f;
  for (int i = 0; i < 32; ++i) s += acc[i];
  volatile float sink = s;
  (void)sink;
  return 2.0 * 32 * best * 1e-9;  // flop per iteration x iterations per second
}
}  // namespace

double gemm_peak_gflops(Isa isa, int threads, double seconds) {
  NK_CHECK(threads >= 1, "gemm_peak_gflops: threads must be >= 1, got ", threads);
  NK_CHECK(static_cast<int>(isa) <= static_cast<int>(cpu_isa()), "gemm_peak_gflops: this CPU lacks ",
           isa_name(isa));
  double total = 0.0;
#ifdef NK_OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : total)
#endif
  {
    total += isa == Isa::avx512 ? fma_peak_gflops_avx512(seconds)
             : isa == Isa::avx2 ? fma_peak_gflops_avx2(seconds)
                                : fma_peak_gflops_scalar(seconds);
  }
  return total;
}

}  // namespace nk
