// conv.cu - conv2d forward / backward-data / backward-weights and conv2d_transpose on the GPU.
// Size letters, layouts, variants and the accumulate / overwrite rules are in conv.h (the same as
// csrc/cpu/conv.h). Kernels index with 32-bit ints; the host entry points check that every tensor
// has fewer than 2^31 elements first.
//
// The three ops are three GEMMs over a virtual im2col matrix col (P, KC), P = N*OH*OW output pixels,
// KC = KH*KW*C (tap-major, channel fastest: the Keras kernel is already the row-major (KC, F) matrix):
//   forward           y  (P, F)       = col (P, KC)  @ w (KC, F)             (+ b)
//   backward-data     dx (N*H*W, C)   = dcol: for each input pixel, the dy pixels whose window covers
//                     it, i.e. A[(n,ih,iw), (kh,kw,f)] = dy[n, (ih+PT-kh*DH)/SH, (iw+PL-kw*DW)/SW, f]
//                     where those divisions are exact and in range (0 elsewhere), times
//                     B[(kh,kw,f), c] = w[kh,kw,c,f]: a gather, so no atomics and no col2im pass
//   backward-weights  dw (KC, F)     += col^T (KC, P) @ dy (P, F)
// `naive` computes each output element with plain loops; `smem_tiled` runs the one shared-memory
// tiled GEMM kernel below with a small struct per op that says how to read A and B and where to
// write C (the "implicit" GEMM: col is never materialised).
#include "cuda/conv.h"

#include <string>

#include "core/errors.h"
#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

// The geometry in 32-bit ints for the kernels (conv.h's ConvShape holds int64 for the bindings).
struct ConvGeom {
  int N, H, W, C, F, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW;
};

constexpr int kBlock = 256;  // threads per block of the elementwise-style kernels

int blocks_for(int64_t n) { return static_cast<int>((n + kBlock - 1) / kBlock); }

// ------------------------------------------------------------------------------------------------
// naive: one thread per output element, the plain loops every other variant is tested against
// ------------------------------------------------------------------------------------------------

// y[n,oh,ow,f] = b[f] + sum_{kh,kw,c} x[n, ih, iw, c] * w[kh,kw,c,f]; one thread per (n, oh, ow, f).
__global__ void conv2d_forward_naive_kernel(float* __restrict__ y,        // (N, OH, OW, F)
                                            const float* __restrict__ x,  // (N, H, W, C)
                                            const float* __restrict__ w,  // (KH, KW, C, F)
                                            const float* __restrict__ b,  // (F) or null
                                            ConvGeom g, int total) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int f = idx % g.F, p = idx / g.F;
  const int ow = p % g.OW, oh = (p / g.OW) % g.OH, n = p / (g.OW * g.OH);
  float acc = b ? b[f] : 0.0f;
  for (int kh = 0; kh < g.KH; ++kh) {
    const int ih = oh * g.SH - g.PT + kh * g.DH;
    if (ih < 0 || ih >= g.H) continue;  // the tap falls in the zero padding
    for (int kw = 0; kw < g.KW; ++kw) {
      const int iw = ow * g.SW - g.PL + kw * g.DW;
      if (iw < 0 || iw >= g.W) continue;
      const float* xp = x + ((n * g.H + ih) * g.W + iw) * g.C;
      const float* wp = w + (kh * g.KW + kw) * g.C * g.F + f;
      for (int c = 0; c < g.C; ++c) acc = fmaf(xp[c], wp[c * g.F], acc);
    }
  }
  y[idx] = acc;
}

// dx[n,ih,iw,c] = sum over the taps whose output pixel (oh, ow) reads (ih, iw):
//   oh*SH - PT + kh*DH = ih  <=>  oh = (ih + PT - kh*DH) / SH when that division is exact.
// One thread per (n, ih, iw, c): a gather, so every dx element is written once (no atomics). `bias`
// (C, or null) is added for conv2d_transpose_forward, which is this op.
__global__ void conv2d_backward_data_naive_kernel(float* __restrict__ dx,        // (N, H, W, C)
                                                  const float* __restrict__ dy,  // (N, OH, OW, F)
                                                  const float* __restrict__ w,   // (KH, KW, C, F)
                                                  const float* __restrict__ bias,  // (C) or null
                                                  ConvGeom g, int total) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int c = idx % g.C, q = idx / g.C;
  const int iw = q % g.W, ih = (q / g.W) % g.H, n = q / (g.W * g.H);
  float acc = bias ? bias[c] : 0.0f;
  for (int kh = 0; kh < g.KH; ++kh) {
    const int th = ih + g.PT - kh * g.DH;
    if (th < 0 || th % g.SH != 0 || th / g.SH >= g.OH) continue;
    const int oh = th / g.SH;
    for (int kw = 0; kw < g.KW; ++kw) {
      const int tw = iw + g.PL - kw * g.DW;
      if (tw < 0 || tw % g.SW != 0 || tw / g.SW >= g.OW) continue;
      const int ow = tw / g.SW;
      const float* dyp = dy + ((n * g.OH + oh) * g.OW + ow) * g.F;
      const float* wp = w + ((kh * g.KW + kw) * g.C + c) * g.F;
      for (int f = 0; f < g.F; ++f) acc = fmaf(dyp[f], wp[f], acc);
    }
  }
  dx[idx] = acc;
}

// dw[kh,kw,c,f] += sum_{n,oh,ow} x[n, ih, iw, c] * dy[n,oh,ow,f]; one thread per weight.
__global__ void conv2d_backward_weights_naive_kernel(float* __restrict__ dw,        // (KH, KW, C, F)
                                                     const float* __restrict__ dy,  // (N, OH, OW, F)
                                                     const float* __restrict__ x,   // (N, H, W, C)
                                                     ConvGeom g, int total) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int f = idx % g.F, c = (idx / g.F) % g.C, tap = idx / (g.F * g.C);
  const int kw = tap % g.KW, kh = tap / g.KW;
  float acc = 0.0f;
  for (int n = 0; n < g.N; ++n)
    for (int oh = 0; oh < g.OH; ++oh) {
      const int ih = oh * g.SH - g.PT + kh * g.DH;
      if (ih < 0 || ih >= g.H) continue;
      for (int ow = 0; ow < g.OW; ++ow) {
        const int iw = ow * g.SW - g.PL + kw * g.DW;
        if (iw < 0 || iw >= g.W) continue;
        acc = fmaf(x[((n * g.H + ih) * g.W + iw) * g.C + c], dy[((n * g.OH + oh) * g.OW + ow) * g.F + f], acc);
      }
    }
  dw[idx] += acc;
}

// ------------------------------------------------------------------------------------------------
// smem_tiled: one shared-memory tiled GEMM kernel, C (M, N) = A (M, K) @ B (K, N), over virtual
// operands. A block computes a kTileM x kTileN tile of C; per kTileK-deep slice of K its 256
// threads gather the A and B slices into shared memory (each element read from global memory once
// per block), then each thread accumulates a 4x4 micro-tile in registers. Thread (tx, ty) owns rows
// ty + 16*i and columns tx + 16*j, so a warp's B reads and C writes are contiguous in n.
// ------------------------------------------------------------------------------------------------

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
constexpr int kTileThreads = 256;  // 16 x 16 threads, 4 x 4 outputs each
constexpr int kMicro = 4;
constexpr int kALoads = kTileM * kTileK / kTileThreads;  // A values each thread gathers per slice
static_assert(kTileThreads % kTileK == 0, "a thread's A loads must share one k");

// A Gemm struct provides M, N, K and:
//   a_row(m) -> Row, a_col(k) -> Col, a(Row, Col)   A[m, k], with the index math split in two: the
//       part that depends only on the row (e.g. the output pixel's n, oh, ow) is computed once per
//       thread, the part that depends only on k (the tap and channel) once per slice; both are
//       only called with in-range indices
//   b(k, n)                  B[k, n]
//   store(m, n, v, z)        write C[m, n] = v (z = blockIdx.z, the K split of backward-weights)
template <class Gemm>
__global__ void implicit_gemm_kernel(Gemm g, int k_per_split) {
  // As is stored k-major ([k][m]) so the inner loop reads a column of A; +1 padding keeps the
  // transposing stores (consecutive threads, consecutive k) on distinct banks.
  __shared__ float As[kTileK][kTileM + 1];
  __shared__ float Bs[kTileK][kTileN];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int m0 = blockIdx.x * kTileM, n0 = blockIdx.y * kTileN;
  const int kb = blockIdx.z * k_per_split;
  const int ke = kb + k_per_split < g.K ? kb + k_per_split : g.K;
  float acc[kMicro][kMicro];
  for (int i = 0; i < kMicro; ++i)
    for (int j = 0; j < kMicro; ++j) acc[i][j] = 0.0f;

  // A slice (kTileM x kTileK): thread tid gathers column kk = tid % kTileK of rows
  // tid / kTileK + r * (kTileThreads / kTileK); consecutive threads take consecutive k, which for the
  // im2col operand are consecutive channels of one pixel (contiguous in x).
  const int a_kk = tid % kTileK;
  int a_mm[kALoads];
  typename Gemm::Row a_rows[kALoads];
  for (int r = 0; r < kALoads; ++r) {
    a_mm[r] = tid / kTileK + r * (kTileThreads / kTileK);
    const int m = m0 + a_mm[r];
    a_rows[r] = g.a_row(m < g.M ? m : 0);
  }

  for (int k0 = kb; k0 < ke; k0 += kTileK) {
    const int ka = k0 + a_kk;
    const typename Gemm::Col a_col = g.a_col(ka < ke ? ka : kb);
    for (int r = 0; r < kALoads; ++r)
      As[a_kk][a_mm[r]] = (m0 + a_mm[r] < g.M && ka < ke) ? g.a(a_rows[r], a_col) : 0.0f;
    // B slice (kTileK x kTileN): consecutive threads take consecutive n.
    for (int r = 0; r < (kTileK * kTileN) / kTileThreads; ++r) {
      const int e = tid + r * kTileThreads, nn = e % kTileN, kk = e / kTileN;
      const int n = n0 + nn, k = k0 + kk;
      Bs[kk][nn] = (n < g.N && k < ke) ? g.b(k, n) : 0.0f;
    }
    __syncthreads();
    for (int kk = 0; kk < kTileK; ++kk) {
      float a[kMicro], b[kMicro];
      for (int i = 0; i < kMicro; ++i) a[i] = As[kk][ty + 16 * i];
      for (int j = 0; j < kMicro; ++j) b[j] = Bs[kk][tx + 16 * j];
      for (int i = 0; i < kMicro; ++i)
        for (int j = 0; j < kMicro; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();  // the slice is consumed before the next one overwrites it
  }
  for (int i = 0; i < kMicro; ++i)
    for (int j = 0; j < kMicro; ++j) {
      const int m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
      if (m < g.M && n < g.N) g.store(m, n, acc[i][j], static_cast<int>(blockIdx.z));
    }
}

// The im2col operand col[p, k] = x[n, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW, c] (0 in the padding),
// split into its output-pixel half p = (n, oh, ow) and its tap half k = (kh, kw, c).
struct Pixel {
  const float* xn;  // x + n*H*W*C
  int ih0, iw0;     // oh*SH - PT, ow*SW - PL: the input position of tap (0, 0)
};
struct Tap {
  int dh, dw, c;    // kh*DH, kw*DW, channel
};
__device__ __forceinline__ Pixel pixel_of(const float* x, const ConvGeom& g, int p) {
  const int ow = p % g.OW, q = p / g.OW, oh = q % g.OH, n = q / g.OH;
  return {x + static_cast<int64_t>(n) * g.H * g.W * g.C, oh * g.SH - g.PT, ow * g.SW - g.PL};
}
__device__ __forceinline__ Tap tap_of(const ConvGeom& g, int k) {
  const int c = k % g.C, tap = k / g.C;
  return {(tap / g.KW) * g.DH, (tap % g.KW) * g.DW, c};
}
__device__ __forceinline__ float im2col_at(const ConvGeom& g, const Pixel& px, const Tap& t) {
  const int ih = px.ih0 + t.dh, iw = px.iw0 + t.dw;
  return (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? px.xn[(ih * g.W + iw) * g.C + t.c] : 0.0f;
}

// forward: y (P, F) = col(x) (P, KC) @ w (KC, F) + b
struct ForwardGemm {
  float* y;           // (N, OH, OW, F)
  const float* x;     // (N, H, W, C)
  const float* w;     // (KH, KW, C, F) = (KC, F)
  const float* bias;  // (F) or null
  ConvGeom g;
  int M, N, K;        // P, F, KC
  using Row = Pixel;
  using Col = Tap;
  __device__ Row a_row(int p) const { return pixel_of(x, g, p); }
  __device__ Col a_col(int k) const { return tap_of(g, k); }
  __device__ float a(const Row& px, const Col& t) const { return im2col_at(g, px, t); }
  __device__ float b(int k, int f) const { return w[k * g.F + f]; }
  __device__ void store(int p, int f, float v, int) const { y[p * g.F + f] = v + (bias ? bias[f] : 0.0f); }
};

// backward-data: dx (N*H*W, C) = A (N*H*W, KH*KW*F) @ B (KH*KW*F, C), A the gathered dy (zero where
// no output pixel reads the input pixel through that tap: with stride s only 1 in s*s taps hit).
struct BackwardDataGemm {
  float* dx;          // (N, H, W, C)
  const float* dy;    // (N, OH, OW, F)
  const float* w;     // (KH, KW, C, F)
  const float* bias;  // (C) or null (conv2d_transpose_forward)
  ConvGeom g;
  int M, N, K;        // N*H*W, C, KH*KW*F
  struct Row {
    const float* dyn;  // dy + n*OH*OW*F
    int th0, tw0;      // ih + PT, iw + PL: oh*SH = th0 - kh*DH for the output pixel tap (kh, kw) reads from
  };
  struct Col {
    int dh, dw, f;     // kh*DH, kw*DW, filter
  };
  __device__ Row a_row(int q) const {
    const int iw = q % g.W, r = q / g.W, ih = r % g.H, n = r / g.H;
    return {dy + static_cast<int64_t>(n) * g.OH * g.OW * g.F, ih + g.PT, iw + g.PL};
  }
  __device__ Col a_col(int k) const {
    const int f = k % g.F, tap = k / g.F;
    return {(tap / g.KW) * g.DH, (tap % g.KW) * g.DW, f};
  }
  __device__ float a(const Row& r, const Col& t) const {
    const int th = r.th0 - t.dh, tw = r.tw0 - t.dw;
    if (th < 0 || tw < 0 || th % g.SH != 0 || tw % g.SW != 0) return 0.0f;
    const int oh = th / g.SH, ow = tw / g.SW;
    return (oh < g.OH && ow < g.OW) ? r.dyn[(oh * g.OW + ow) * g.F + t.f] : 0.0f;
  }
  __device__ float b(int k, int c) const {
    const int f = k % g.F, tap = k / g.F;
    return w[(tap * g.C + c) * g.F + f];
  }
  __device__ void store(int q, int c, float v, int) const { dx[q * g.C + c] = v + (bias ? bias[c] : 0.0f); }
};

// backward-weights: dw (KC, F) += col(x)^T (KC, P) @ dy (P, F): A's rows are taps, its k the output
// pixels. With a K split each split writes its partial product to partial (splits, KC, F) and
// sum_splits adds them; with one split the product is added straight into dw.
struct BackwardWeightsGemm {
  float* dw;          // (KH, KW, C, F)
  float* partial;     // (splits, KC, F) or null (one split)
  const float* dy;    // (N, OH, OW, F)
  const float* x;     // (N, H, W, C)
  ConvGeom g;
  int M, N, K;        // KC, F, P
  using Row = Tap;
  using Col = Pixel;
  __device__ Row a_row(int k) const { return tap_of(g, k); }
  __device__ Col a_col(int p) const { return pixel_of(x, g, p); }
  __device__ float a(const Row& t, const Col& px) const { return im2col_at(g, px, t); }
  __device__ float b(int p, int f) const { return dy[p * g.F + f]; }
  __device__ void store(int k, int f, float v, int z) const {
    if (partial) partial[(static_cast<int64_t>(z) * M + k) * N + f] = v;
    else dw[k * N + f] += v;
  }
};

// dw[i] += sum_z partial[z, i], z in order: the same bits whichever block finished first.
__global__ void sum_splits_kernel(float* __restrict__ dw, const float* __restrict__ partial, int splits,
                                  int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float s = 0.0f;
  for (int z = 0; z < splits; ++z) s += partial[static_cast<int64_t>(z) * n + i];
  dw[i] += s;
}

// db[j] += sum_r dy[r, j]. Block (32, 8): threadIdx.x picks the column (a warp reads 32 consecutive
// floats of a row), threadIdx.y strides over rows; the 8 partial sums are added in a fixed order.
__global__ void column_sums_acc_kernel(float* __restrict__ db, const float* __restrict__ dy, int R, int J) {
  __shared__ float part[8][32];
  const int j = blockIdx.x * 32 + threadIdx.x;
  float s = 0.0f;
  if (j < J)
    for (int r = threadIdx.y; r < R; r += 8) s += dy[static_cast<int64_t>(r) * J + j];
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && j < J) {
    float t = 0.0f;
    for (int k = 0; k < 8; ++k) t += part[k][threadIdx.x];
    db[j] += t;
  }
}

// y[p, f] = b[f] (or 0) for every pixel: the forward of a conv with an empty sum (C == 0).
__global__ void fill_rows_kernel(float* __restrict__ y, const float* __restrict__ b, int J, int total) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < total) y[i] = b ? b[i % J] : 0.0f;
}

// ------------------------------------------------------------------------------------------------
// host side: variant lookup, 32-bit checks, launches
// ------------------------------------------------------------------------------------------------

enum class Variant { naive, smem_tiled };

Variant find_variant(const char* op, const char* name) {
  const std::string v(name);
  if (v == "auto" || v == "smem_tiled") return Variant::smem_tiled;
  if (v == "naive") return Variant::naive;
  std::string known;
  for (const auto& info : conv2d_variants()) known += std::string(info.name) + ", ";
  throw std::invalid_argument(msg("unknown ", op, " variant '", v, "': choose one of ", known,
                                  "auto (the CUDA backend has no CPU variants such as im2col_gemm)"));
}

constexpr int64_t kMaxIndex = (int64_t{1} << 31) - 1;

ConvGeom geom(const ConvShape& s, const char* op) {
  const int64_t sizes[] = {s.N * s.H * s.W * s.C, s.N * s.OH * s.OW * s.F, s.KH * s.KW * s.C * s.F};
  for (int64_t n : sizes)
    NK_CHECK(n <= kMaxIndex, op, ": tensors of 2^31 or more elements are not supported by the CUDA "
             "kernels (32-bit indexing); split the batch");
  auto i = [](int64_t v) { return static_cast<int>(v); };
  return {i(s.N), i(s.H), i(s.W), i(s.C), i(s.F), i(s.KH), i(s.KW), i(s.SH), i(s.SW), i(s.DH), i(s.DW),
          i(s.PT), i(s.PL), i(s.OH), i(s.OW)};
}

bool conv_empty(const ConvShape& s) { return s.N * s.OH * s.OW == 0 || s.C == 0 || s.F == 0; }

dim3 gemm_grid(int M, int N, int splits) {
  return dim3((M + kTileM - 1) / kTileM, (N + kTileN - 1) / kTileN, splits);
}

// The K split of the weight gradient: its GEMM has a long K (= P, all output pixels) and a small
// (KC, F) output, often only a few tiles, so without a split only a few blocks would run. Aim at
// about 256 blocks, each with at least 32 slices of K.
int weight_splits(int M, int N, int K) {
  const int tiles = ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
  const int slices = (K + kTileK - 1) / kTileK;
  int splits = 256 / tiles;
  if (splits > slices / 32) splits = slices / 32;
  return splits < 1 ? 1 : splits;
}

void forward_impl(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                  const char* variant, const char* op) {
  const Variant v = find_variant(op, variant);
  const ConvGeom g = geom(s, op);
  const int P = g.N * g.OH * g.OW, total = P * g.F;
  if (total == 0) return;
  if (conv_empty(s)) {  // C == 0: the empty sum over taps and channels is the bias
    NK_LAUNCH(fill_rows_kernel, blocks_for(total), kBlock, 0, y, b, g.F, total);
    NK_CHECK_LAUNCH("fill_rows_kernel");
    return;
  }
  if (v == Variant::naive) {
    NK_LAUNCH(conv2d_forward_naive_kernel, blocks_for(total), kBlock, 0, y, x, w, b, g, total);
    NK_CHECK_LAUNCH("conv2d_forward_naive_kernel");
    return;
  }
  const ForwardGemm gemm{y, x, w, b, g, P, g.F, g.KH * g.KW * g.C};
  NK_LAUNCH(implicit_gemm_kernel<ForwardGemm>, gemm_grid(gemm.M, gemm.N, 1), kTileThreads, 0, gemm, gemm.K);
  NK_CHECK_LAUNCH("implicit_gemm_kernel<ForwardGemm>");
}

void backward_data_impl(float* dx, const float* dy, const float* w, const float* bias, const ConvShape& s,
                        const char* variant, const char* op) {
  const Variant v = find_variant(op, variant);
  const ConvGeom g = geom(s, op);
  const int Q = g.N * g.H * g.W, total = Q * g.C;
  if (total == 0) return;
  if (conv_empty(s)) {  // no filters or no output pixels: nothing flows back (only the bias)
    NK_LAUNCH(fill_rows_kernel, blocks_for(total), kBlock, 0, dx, bias, g.C, total);
    NK_CHECK_LAUNCH("fill_rows_kernel");
    return;
  }
  if (v == Variant::naive) {
    NK_LAUNCH(conv2d_backward_data_naive_kernel, blocks_for(total), kBlock, 0, dx, dy, w, bias, g, total);
    NK_CHECK_LAUNCH("conv2d_backward_data_naive_kernel");
    return;
  }
  const BackwardDataGemm gemm{dx, dy, w, bias, g, Q, g.C, g.KH * g.KW * g.F};
  NK_LAUNCH(implicit_gemm_kernel<BackwardDataGemm>, gemm_grid(gemm.M, gemm.N, 1), kTileThreads, 0, gemm,
            gemm.K);
  NK_CHECK_LAUNCH("implicit_gemm_kernel<BackwardDataGemm>");
}

void backward_weights_impl(float* dw, const float* dy, const float* x, const ConvShape& s,
                           const char* variant, const char* op) {
  const Variant v = find_variant(op, variant);
  const ConvGeom g = geom(s, op);
  if (conv_empty(s)) return;  // nothing to add to dw
  const int KC = g.KH * g.KW * g.C, P = g.N * g.OH * g.OW, total = KC * g.F;
  if (v == Variant::naive) {
    NK_LAUNCH(conv2d_backward_weights_naive_kernel, blocks_for(total), kBlock, 0, dw, dy, x, g, total);
    NK_CHECK_LAUNCH("conv2d_backward_weights_naive_kernel");
    return;
  }
  const int splits = weight_splits(KC, g.F, P);
  // K per split: a whole number of slices, so only the last split has a partial slice
  const int slices = (P + kTileK - 1) / kTileK;
  const int k_per_split = ((slices + splits - 1) / splits) * kTileK;
  float* partial = nullptr;
  if (splits > 1) partial = static_cast<float*>(device_alloc(sizeof(float) * splits * static_cast<size_t>(total)));
  const BackwardWeightsGemm gemm{dw, partial, dy, x, g, KC, g.F, P};
  // splits computed from k_per_split, so no block gets an empty range
  const int used = (P + k_per_split - 1) / k_per_split;
  NK_LAUNCH(implicit_gemm_kernel<BackwardWeightsGemm>, gemm_grid(KC, g.F, used), kTileThreads, 0, gemm,
            k_per_split);
  NK_CHECK_LAUNCH("implicit_gemm_kernel<BackwardWeightsGemm>");
  if (partial) {
    NK_LAUNCH(sum_splits_kernel, blocks_for(total), kBlock, 0, dw, partial, used, total);
    NK_CHECK_LAUNCH("sum_splits_kernel");
    device_free(partial);
  }
}

}  // namespace

const std::vector<ConvVariantInfo>& conv2d_variants() {
  static const std::vector<ConvVariantInfo> table = {
      {"naive", "one thread per output element, plain loops over the taps (the reference)"},
      {"smem_tiled", "implicit GEMM over the virtual im2col matrix: 64x64 tiles, 16-deep K slices in "
                     "shared memory, 4x4 register micro-tiles; weight gradients split K (fixed-order sum)"},
  };
  return table;
}

void column_sums_acc(float* db, const float* dy, int64_t R, int64_t J) {
  if (R == 0 || J == 0) return;
  NK_CHECK(R * J <= kMaxIndex, "column_sums_acc: tensors of 2^31 or more elements are not supported");
  NK_LAUNCH(column_sums_acc_kernel, static_cast<int>((J + 31) / 32), dim3(32, 8), 0, db, dy,
            static_cast<int>(R), static_cast<int>(J));
  NK_CHECK_LAUNCH("column_sums_acc_kernel");
}

void conv2d_forward(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                    const char* variant) {
  forward_impl(y, x, w, b, s, variant, "conv2d_forward");
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvShape& s, const char* variant) {
  backward_data_impl(dx, dy, w, nullptr, s, variant, "conv2d_backward_data");
}

void conv2d_backward_weights(float* dw, float* db, const float* dy, const float* x, const ConvShape& s,
                             const char* variant) {
  backward_weights_impl(dw, dy, x, s, variant, "conv2d_backward_weights");
  if (db) column_sums_acc(db, dy, s.N * s.OH * s.OW, s.F);
}

// ------------------------------------------------------------------------------------------------
// transposed convolution: the same kernels with the roles of input and output exchanged
// ------------------------------------------------------------------------------------------------

void conv2d_transpose_forward(float* yt, const float* xt, const float* w, const float* bt, const ConvShape& s,
                              const char* variant) {
  // yt = conv^T(xt) + bt: conv2d's backward-data with the bias folded into its store
  backward_data_impl(yt, xt, w, bt, s, variant, "conv2d_transpose_forward");
}

void conv2d_transpose_backward_data(float* dxt, const float* dyt, const float* w, const ConvShape& s,
                                    const char* variant) {
  forward_impl(dxt, dyt, w, nullptr, s, variant, "conv2d_transpose_backward_data");
}

void conv2d_transpose_backward_weights(float* dw, float* dbt, const float* dyt, const float* xt,
                                       const ConvShape& s, const char* variant) {
  // yt[p_in, c] = sum xt[p_out, f] w[tap, c, f]: the bilinear form of conv2d with x := dyt and
  // dy := xt, so dw += conv2d's weight gradient of (x = dyt, dy = xt); the bias sums dyt.
  backward_weights_impl(dw, xt, dyt, s, variant, "conv2d_transpose_backward_weights");
  if (dbt) column_sums_acc(dbt, dyt, s.N * s.H * s.W, s.C);
}

}  // namespace nk::cuda
