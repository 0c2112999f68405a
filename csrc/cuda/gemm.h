// gemm.h - single-precision matrix multiply on the device (the CUDA twin of cpu/gemm.h).
//
//   C[M,N] = alpha * op(A) @ op(B) + beta * C        (row-major, leading dimensions lda/ldb/ldc)
//   op(A) is A (M,K) or, with trans_a, A^T where A is stored (K,M); likewise B (K,N) or (N,K).
//   beta == 0 overwrites C without reading it (C may hold NaN garbage).
//
// Host API for other kernel files (conv im2col, LSTM gates, ...): every pointer is a DEVICE pointer,
// the call is asynchronous on the default stream (like any kernel launch) and throws nk errors naming
// the kernel if a launch fails. A leading dimension of 0 means "packed" (the stored row length).
//
//   nk::cuda::gemm(C, A, B, M, N, K, trans_a, trans_b, alpha, beta, lda, ldb, ldc);
//
// Variants (the teaching ladder, simplest first; each handles any M/N/K, both transposes, alpha/beta):
//   naive             one thread per C element, K-loop straight from global memory
//   smem_tiled        16x16 thread block stages 16x16 tiles of op(A) and op(B) in shared memory
//   register_blocked  64x64 C tile per 256-thread block, each thread computes a 4x4 micro-tile from
//                     registers (4 + 4 shared loads feed 16 FMAs per k)
//   vectorized        register_blocked with float4 global loads and stores wherever a 4-wide
//                     group is 16-byte aligned and inside the matrix, scalar loads elsewhere
// "auto" runs vectorized.
#pragma once
#include <cstdint>
#include <vector>

namespace nk::cuda {

// The same fields as nk::GemmArgs (cpu/gemm.h), but pointers are device pointers. A separate type so
// that argument-dependent lookup never mixes nk::gemm_naive (CPU) with nk::cuda::gemm_naive.
struct GemmArgs {
  float* C; const float* A; const float* B;
  int64_t M, N, K;
  int64_t lda, ldb, ldc;
  bool trans_a, trans_b;
  float alpha, beta;
};

using GemmFn = void (*)(const GemmArgs&);

struct GemmVariant {
  const char* name;         // "naive", "smem_tiled", "register_blocked", "vectorized"
  const char* description;  // one line, as in the header above
  GemmFn fn;
};

const std::vector<GemmVariant>& gemm_variants();
// The registry entry called `name`; throws ValueError listing the names for an unknown one.
const GemmVariant& gemm_find_variant(const char* name);

// The dispatching entry point ("auto" = vectorized). Leading dimensions 0 mean packed.
void gemm(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
          bool trans_a, bool trans_b, float alpha = 1.0f, float beta = 0.0f,
          int64_t lda = 0, int64_t ldb = 0, int64_t ldc = 0);
void gemm_variant(const char* name, const GemmArgs& args);  // throws ValueError for unknown names

void gemm_naive(const GemmArgs& g);
void gemm_smem_tiled(const GemmArgs& g);
void gemm_register_blocked(const GemmArgs& g);
void gemm_vectorized(const GemmArgs& g);

}  // namespace nk::cuda
