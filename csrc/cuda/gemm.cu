// gemm.cu - SGEMM on the device, as a ladder of four kernels (definitions and the variant list in
// cuda/gemm.h):
//   naive             one thread per C element, K-loop straight from global memory
//   smem_tiled        16x16 tiles of op(A) and op(B) staged in shared memory, reused 16 times each
//   register_blocked  64x64 C tile per block, each thread a 4x4 micro-tile held in registers
//   vectorized        register_blocked + float4 global loads/stores where aligned and in bounds
//
// Size letters: M rows of C and op(A), N columns of C and op(B), K the inner dimension.
// Stored layouts (row-major): A (M,K), or (K,M) with trans_a; B (K,N), or (N,K) with trans_b; C (M,N);
// rows are lda / ldb / ldc elements apart. beta == 0 writes C without reading it.
// Every kernel stages zeros for tile elements outside the matrices, so edge tiles (M, N, K not
// multiples of the tile) need bounds checks only at the loads and the final store.
#include "cuda/gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/errors.h"
#include "cuda/compat.h"

namespace nk::cuda {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// op(A)[i, k] and op(B)[k, j] read from the stored matrices.
__device__ __forceinline__ float op_a(const GemmArgs& g, int64_t i, int64_t k) {
  return g.trans_a ? g.A[k * g.lda + i] : g.A[i * g.lda + k];
}
__device__ __forceinline__ float op_b(const GemmArgs& g, int64_t k, int64_t j) {
  return g.trans_b ? g.B[j * g.ldb + k] : g.B[k * g.ldb + j];
}

// c = alpha * acc + beta * c; beta == 0 never reads c (it may hold NaN garbage).
__device__ __forceinline__ float epilogue(float acc, float c_old, float alpha, float beta) {
  return beta == 0.0f ? alpha * acc : alpha * acc + beta * c_old;
}

// Grid limits: x up to 2^31 - 1, y up to 65535 blocks.
dim3 checked_grid(int64_t gx, int64_t gy, const char* kernel) {
  NK_CHECK(gx <= 2147483647LL && gy <= 65535, kernel, ": matrix too large for one launch (grid ", gx,
           " x ", gy, " blocks)");
  return dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy), 1);
}

// ---- naive: the reference ------------------------------------------------------------------------
// grid (ceil(N/16), ceil(M/16)), block (16, 16). threadIdx.x walks columns, so a warp's reads of
// op(B) and its writes of C are contiguous (for the untransposed layouts).
__global__ void gemm_naive_kernel(GemmArgs g) {
  const int64_t i = blockIdx.y * static_cast<int64_t>(blockDim.y) + threadIdx.y;  // row of C
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;  // column of C
  if (i >= g.M || j >= g.N) return;
  float acc = 0.0f;
  for (int64_t k = 0; k < g.K; ++k) acc += op_a(g, i, k) * op_b(g, k, j);
  float* c = g.C + i * g.ldc + j;
  *c = epilogue(acc, g.beta == 0.0f ? 0.0f : *c, g.alpha, g.beta);
}

// ---- smem_tiled: each global element is loaded once per tile and reused kTile times -------------
constexpr int kTile = 16;

// grid (ceil(N/16), ceil(M/16)), block (16, 16). Per K-step every thread stages one element of the
// A tile and one of the B tile, then the block multiplies the two 16x16 tiles out of shared memory.
__global__ void gemm_smem_tiled_kernel(GemmArgs g) {
  __shared__ float As[kTile][kTile];  // As[r][kk] = op(A)[i0 + r, k0 + kk]
  __shared__ float Bs[kTile][kTile];  // Bs[kk][c] = op(B)[k0 + kk, j0 + c]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t i = blockIdx.y * static_cast<int64_t>(kTile) + ty;
  const int64_t j = blockIdx.x * static_cast<int64_t>(kTile) + tx;
  float acc = 0.0f;
  // No early return for threads outside C: they still stage tile elements and reach the barriers.
  for (int64_t k0 = 0; k0 < g.K; k0 += kTile) {
    const int64_t ka = k0 + tx, kb = k0 + ty;
    As[ty][tx] = (i < g.M && ka < g.K) ? op_a(g, i, ka) : 0.0f;
    Bs[ty][tx] = (kb < g.K && j < g.N) ? op_b(g, kb, j) : 0.0f;
    __syncthreads();  // tiles complete before anyone reads them
    for (int kk = 0; kk < kTile; ++kk) acc += As[ty][kk] * Bs[kk][tx];
    __syncthreads();  // everyone done reading before the next step overwrites them
  }
  if (i < g.M && j < g.N) {
    float* c = g.C + i * g.ldc + j;
    *c = epilogue(acc, g.beta == 0.0f ? 0.0f : *c, g.alpha, g.beta);
  }
}

// ---- register_blocked / vectorized: 64x64 block tile, 4x4 per thread ----------------------------
// A block of 256 threads owns the C tile rows [m0, m0 + 64) x columns [n0, n0 + 64). Thread t
// computes rows m0 + 4*(t / 16) + [0, 4) and columns n0 + 4*(t % 16) + [0, 4): per k it reads 4
// values of op(A) and 4 of op(B) from shared memory and does 16 FMAs (4x the arithmetic intensity
// of smem_tiled, whose threads do 1 FMA per 2 shared loads).
constexpr int kBM = 64, kBN = 64, kBK = 16, kTM = 4, kTN = 4;
constexpr int kBlockThreads = (kBM / kTM) * (kBN / kTN);  // 256
static_assert(kBM * kBK == 4 * kBlockThreads && kBN * kBK == 4 * kBlockThreads,
              "each thread stages exactly one 4-wide group of each tile");

// Four consecutive elements P[r, c .. c+3] of a stored row-major (rows, cols) matrix, zeros outside
// it. kVector: one 16-byte float4 load when the group is aligned (`aligned` = base 16-byte aligned
// and ld % 4 == 0; c is always a multiple of 4 here) and entirely inside the row.
template <bool kVector>
__device__ __forceinline__ void load4(float v[4], const float* P, int64_t ld, int64_t rows, int64_t cols,
                                      int64_t r, int64_t c, bool aligned) {
  if (r >= rows) { v[0] = v[1] = v[2] = v[3] = 0.0f; return; }
  const float* p = P + r * ld + c;
  if (kVector && aligned && c + 3 < cols) {
    const float4 f = *reinterpret_cast<const float4*>(p);
    v[0] = f.x; v[1] = f.y; v[2] = f.z; v[3] = f.w;
    return;
  }
  for (int q = 0; q < 4; ++q) v[q] = c + q < cols ? p[q] : 0.0f;  // scalar fallback / edge
}

// grid (ceil(N/64), ceil(M/64)), block 256. Alignment flags are computed on the host.
template <bool kVector>
__global__ void gemm_blocked_kernel(GemmArgs g, bool a_aligned, bool b_aligned, bool c_aligned) {
  __shared__ float As[kBK][kBM];  // As[kk][r] = op(A)[m0 + r, k0 + kk]  (k-major: a column is a row)
  __shared__ float Bs[kBK][kBN];  // Bs[kk][c] = op(B)[k0 + kk, n0 + c]
  const int t = threadIdx.x;
  const int ty = t / (kBN / kTN), tx = t % (kBN / kTN);
  const int64_t m0 = blockIdx.y * static_cast<int64_t>(kBM), n0 = blockIdx.x * static_cast<int64_t>(kBN);

  float acc[kTM][kTN] = {};
  float v[4];
  for (int64_t k0 = 0; k0 < g.K; k0 += kBK) {
    // Stage the tiles: each thread loads one group of 4 elements that are contiguous in the STORED
    // matrix (so the group can be one float4), then scatters them into the k-major tile.
    if (!g.trans_a) {  // A stored (M, K): a group runs along k
      const int r = t / 4, kq = (t % 4) * 4;
      load4<kVector>(v, g.A, g.lda, g.M, g.K, m0 + r, k0 + kq, a_aligned);
      for (int q = 0; q < 4; ++q) As[kq + q][r] = v[q];
    } else {  // A stored (K, M): a group runs along m
      const int kr = t / 16, mq = (t % 16) * 4;
      load4<kVector>(v, g.A, g.lda, g.K, g.M, k0 + kr, m0 + mq, a_aligned);
      for (int q = 0; q < 4; ++q) As[kr][mq + q] = v[q];
    }
    if (!g.trans_b) {  // B stored (K, N): a group runs along n
      const int kr = t / 16, nq = (t % 16) * 4;
      load4<kVector>(v, g.B, g.ldb, g.K, g.N, k0 + kr, n0 + nq, b_aligned);
      for (int q = 0; q < 4; ++q) Bs[kr][nq + q] = v[q];
    } else {  // B stored (N, K): a group runs along k
      const int c = t / 4, kq = (t % 4) * 4;
      load4<kVector>(v, g.B, g.ldb, g.N, g.K, n0 + c, k0 + kq, b_aligned);
      for (int q = 0; q < 4; ++q) Bs[kq + q][c] = v[q];
    }
    __syncthreads();

    // Outer-product update of the 4x4 micro-tile: a is a column piece of op(A), b a row piece of op(B).
    for (int kk = 0; kk < kBK; ++kk) {
      float a[kTM], b[kTN];
      for (int r = 0; r < kTM; ++r) a[r] = As[kk][ty * kTM + r];
      for (int c = 0; c < kTN; ++c) b[c] = Bs[kk][tx * kTN + c];
      for (int r = 0; r < kTM; ++r)
        for (int c = 0; c < kTN; ++c) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
    }
    __syncthreads();
  }

  // Write the micro-tile: one float4 per row when allowed, else element by element.
  const int64_t j = n0 + tx * kTN;
  for (int r = 0; r < kTM; ++r) {
    const int64_t i = m0 + ty * kTM + r;
    if (i >= g.M) break;
    float* c = g.C + i * g.ldc + j;
    if (kVector && c_aligned && j + 3 < g.N) {
      float4 old = g.beta == 0.0f ? float4{0.0f, 0.0f, 0.0f, 0.0f} : *reinterpret_cast<const float4*>(c);
      float4 out;
      out.x = epilogue(acc[r][0], old.x, g.alpha, g.beta);
      out.y = epilogue(acc[r][1], old.y, g.alpha, g.beta);
      out.z = epilogue(acc[r][2], old.z, g.alpha, g.beta);
      out.w = epilogue(acc[r][3], old.w, g.alpha, g.beta);
      *reinterpret_cast<float4*>(c) = out;
    } else {
      for (int q = 0; q < kTN && j + q < g.N; ++q)
        c[q] = epilogue(acc[r][q], g.beta == 0.0f ? 0.0f : c[q], g.alpha, g.beta);
    }
  }
}

bool aligned16(const void* p, int64_t ld) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && ld % 4 == 0;
}

}  // namespace

// ---- host entry points -----------------------------------------------------------------------------
void gemm_naive(const GemmArgs& g) {
  if (g.M == 0 || g.N == 0) return;
  dim3 grid = checked_grid(ceil_div(g.N, kTile), ceil_div(g.M, kTile), "gemm_naive_kernel");
  NK_LAUNCH(gemm_naive_kernel, grid, dim3(kTile, kTile, 1), 0, g);
  NK_CHECK_LAUNCH("gemm_naive_kernel");
}

void gemm_smem_tiled(const GemmArgs& g) {
  if (g.M == 0 || g.N == 0) return;
  dim3 grid = checked_grid(ceil_div(g.N, kTile), ceil_div(g.M, kTile), "gemm_smem_tiled_kernel");
  NK_LAUNCH(gemm_smem_tiled_kernel, grid, dim3(kTile, kTile, 1), 0, g);
  NK_CHECK_LAUNCH("gemm_smem_tiled_kernel");
}

void gemm_register_blocked(const GemmArgs& g) {
  if (g.M == 0 || g.N == 0) return;
  dim3 grid = checked_grid(ceil_div(g.N, kBN), ceil_div(g.M, kBM), "gemm_blocked_kernel<false>");
  NK_LAUNCH(gemm_blocked_kernel<false>, grid, kBlockThreads, 0, g, false, false, false);
  NK_CHECK_LAUNCH("gemm_blocked_kernel<false> (register_blocked)");
}

void gemm_vectorized(const GemmArgs& g) {
  if (g.M == 0 || g.N == 0) return;
  dim3 grid = checked_grid(ceil_div(g.N, kBN), ceil_div(g.M, kBM), "gemm_blocked_kernel<true>");
  NK_LAUNCH(gemm_blocked_kernel<true>, grid, kBlockThreads, 0, g, aligned16(g.A, g.lda),
            aligned16(g.B, g.ldb), aligned16(g.C, g.ldc));
  NK_CHECK_LAUNCH("gemm_blocked_kernel<true> (vectorized)");
}

const std::vector<GemmVariant>& gemm_variants() {
  static const std::vector<GemmVariant> table = {
      {"naive", "one thread per C element, K-loop straight from global memory", gemm_naive},
      {"smem_tiled", "16x16 tiles of op(A) and op(B) staged in shared memory, one C element per thread",
       gemm_smem_tiled},
      {"register_blocked", "64x64 C tile per 256-thread block, a 4x4 micro-tile per thread in registers",
       gemm_register_blocked},
      {"vectorized", "register_blocked with float4 global loads/stores where aligned, scalar elsewhere",
       gemm_vectorized},
  };
  return table;
}

const GemmVariant& gemm_find_variant(const char* name) {
  std::string known;
  for (const auto& v : gemm_variants()) {
    if (std::strcmp(v.name, name) == 0) return v;
    known += (known.empty() ? "" : ", ") + std::string(v.name);
  }
  throw std::invalid_argument(msg("unknown CUDA gemm variant '", name, "': choose auto or one of ", known));
}

void gemm_variant(const char* name, const GemmArgs& g) { gemm_find_variant(name).fn(g); }

void gemm(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K, bool trans_a,
          bool trans_b, float alpha, float beta, int64_t lda, int64_t ldb, int64_t ldc) {
  // 0 = packed: the stored row length (at least 1 so empty shapes stay valid)
  if (lda == 0) lda = std::max<int64_t>(trans_a ? M : K, 1);
  if (ldb == 0) ldb = std::max<int64_t>(trans_b ? K : N, 1);
  if (ldc == 0) ldc = std::max<int64_t>(N, 1);
  gemm_vectorized(GemmArgs{C, A, B, M, N, K, lda, ldb, ldc, trans_a, trans_b, alpha, beta});
}

}  // namespace nk::cuda
