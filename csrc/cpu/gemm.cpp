// gemm.cpp - SGEMM: reference loop and the variant registry / dispatcher.
//
// Size letters: M rows of C, N columns of C, K the reduction length.
// Variants (registered in gemm_variants(), simplest first):
//   naive  - triple loop over (i, j, k); the reference.
#include "cpu/gemm.h"

#include <cstring>
#include <string>

#include "core/errors.h"

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

const std::vector<GemmVariant>& gemm_variants() {
  static const std::vector<GemmVariant> table = {
      {"naive", Isa::scalar, "triple loop over (i, j, k); the reference", &gemm_naive},
  };
  return table;
}

void gemm_variant(const char* name, const GemmArgs& args) {
  std::string known;
  for (const auto& v : gemm_variants()) {
    if (std::string(v.name) == name) {
      NK_CHECK(static_cast<int>(v.isa) <= static_cast<int>(active_isa()), "gemm variant '", name,
               "' needs ", isa_name(v.isa), " but the active ISA is ", isa_name(active_isa()));
      v.fn(args);
      return;
    }
    known += (known.empty() ? "" : ", ") + std::string(v.name);
  }
  throw std::invalid_argument(msg("unknown gemm variant '", name, "': choose one of ", known));
}

void gemm(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
          bool trans_a, bool trans_b, float alpha, float beta, int64_t lda, int64_t ldb, int64_t ldc) {
  GemmArgs g{C, A, B, M, N, K,
             lda ? lda : (trans_a ? M : K), ldb ? ldb : (trans_b ? K : N), ldc ? ldc : N,
             trans_a, trans_b, alpha, beta};
  if (M == 0 || N == 0) return;
  if (K == 0) {  // empty sum: C = beta * C
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * g.ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * g.ldc + j];
    return;
  }
  // The last registered variant the active ISA can run is the fastest.
  const GemmVariant* best = &gemm_variants().front();
  for (const auto& v : gemm_variants())
    if (static_cast<int>(v.isa) <= static_cast<int>(active_isa())) best = &v;
  best->fn(g);
}

}  // namespace nk
