// gemm.h - single-precision matrix multiply, the workhorse of Dense, conv (im2col) and LSTM.
//
//   C[M,N] = alpha * op(A) @ op(B) + beta * C        (row-major, leading dimensions lda/ldb/ldc)
//   op(A) is A (M,K) or, with trans_a, A^T where A is stored (K,M); likewise B (K,N) or (N,K).
//   beta == 0 overwrites C without reading it (C may hold NaN garbage).
#pragma once
#include <cstdint>
#include <vector>

#include "core/cpu_features.h"

namespace nk {

struct GemmArgs {
  float* C; const float* A; const float* B;
  int64_t M, N, K;
  int64_t lda, ldb, ldc;
  bool trans_a, trans_b;
  float alpha, beta;
};

using GemmFn = void (*)(const GemmArgs&);

// One entry per technique, simplest first. Tests loop over every entry the CPU can run.
struct GemmVariant {
  const char* name;         // e.g. "naive", "packed_avx512"
  Isa isa;                  // lowest ISA the variant needs
  const char* description;  // one line, as in the file header
  GemmFn fn;
};

const std::vector<GemmVariant>& gemm_variants();
// The registry entry called `name`; throws ValueError for an unknown name or one needing a higher ISA
// than active_isa().
const GemmVariant& gemm_find_variant(const char* name);

// The dispatching entry point: best variant for active_isa(). Leading dimensions default to packed.
void gemm(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
          bool trans_a, bool trans_b, float alpha = 1.0f, float beta = 0.0f,
          int64_t lda = 0, int64_t ldb = 0, int64_t ldc = 0);
void gemm_variant(const char* name, const GemmArgs& args);  // throws ValueError for unknown names

// Plain triple loop: the reference every other variant is tested against.
void gemm_naive(const GemmArgs& g);
// Goto/BLIS-blocked variants: one driver (gemm_packed.h), one micro-kernel per ISA.
void gemm_packed_scalar(const GemmArgs& g);   // gemm.cpp, portable C++ kernel
void gemm_packed_avx2(const GemmArgs& g);     // gemm_avx2.cpp
void gemm_packed_avx512(const GemmArgs& g);   // gemm_avx512.cpp
// Narrow outputs (small N): vectorised along M, 32 x <=14 register tiles (gemm_narrow_avx512.cpp).
void gemm_narrow_avx512(const GemmArgs& g);

// The variant gemm() runs for these arguments under active_isa() (exposed so tests can check it).
const GemmVariant& gemm_dispatch(const GemmArgs& g);

// Measured fp32 FMA throughput (GFLOPS) of `threads` cores running independent FMA chains of the
// given ISA's widest vectors for about `seconds`: the roofline the benchmark compares against.
double gemm_peak_gflops(Isa isa, int threads, double seconds);
double fma_peak_gflops_avx2(double seconds);    // one thread, ymm
double fma_peak_gflops_avx512(double seconds);  // one thread, zmm

}  // namespace nk
