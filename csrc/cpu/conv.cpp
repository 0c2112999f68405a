// conv.cpp - conv2d forward / backward-data / backward-weights: the naive reference, the chunked
// im2col + GEMM path, the variant tables and the dispatchers. Size letters and the accumulate /
// overwrite rules are in conv.h.
#include "cpu/conv.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/elementwise.h"
#include "cpu/gemm.h"

namespace nk {

int64_t conv_out_len(int64_t in, int64_t k, int64_t s, int64_t d, int64_t before, int64_t after) {
  const int64_t span = in + before + after - d * (k - 1);  // positions the dilated kernel can start at
  return span <= 0 ? 0 : (span - 1) / s + 1;
}

// ------------------------------------------------------------------------------------------------
// naive: the plain loops every other variant is tested against
// ------------------------------------------------------------------------------------------------

void conv2d_forward_naive(float* y, const float* x, const float* w, const float* b, const ConvShape& s) {
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t f = 0; f < s.F; ++f) {
          float acc = b ? b[f] : 0.0f;
          for (int64_t kh = 0; kh < s.KH; ++kh) {
            const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
            if (ih < 0 || ih >= s.H) continue;  // zero padding
            for (int64_t kw = 0; kw < s.KW; ++kw) {
              const int64_t iw = ow * s.SW - s.PL + kw * s.DW;
              if (iw < 0 || iw >= s.W) continue;
              for (int64_t c = 0; c < s.C; ++c)
                acc += x[((n * s.H + ih) * s.W + iw) * s.C + c] * w[((kh * s.KW + kw) * s.C + c) * s.F + f];
            }
          }
          y[((n * s.OH + oh) * s.OW + ow) * s.F + f] = acc;
        }
}

void conv2d_backward_data_naive(float* dx, const float* dy, const float* w, const ConvShape& s) {
  std::fill(dx, dx + s.N * s.H * s.W * s.C, 0.0f);  // dx = (overwrite), then scatter every tap
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow)
        for (int64_t kh = 0; kh < s.KH; ++kh) {
          const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
          if (ih < 0 || ih >= s.H) continue;
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            const int64_t iw = ow * s.SW - s.PL + kw * s.DW;
            if (iw < 0 || iw >= s.W) continue;
            for (int64_t c = 0; c < s.C; ++c) {
              float acc = 0.0f;
              for (int64_t f = 0; f < s.F; ++f)
                acc += dy[((n * s.OH + oh) * s.OW + ow) * s.F + f] * w[((kh * s.KW + kw) * s.C + c) * s.F + f];
              dx[((n * s.H + ih) * s.W + iw) * s.C + c] += acc;
            }
          }
        }
}

void conv2d_backward_weights_naive(float* dw, float* db, const float* dy, const float* x,
                                   const ConvShape& s) {
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw)
      for (int64_t c = 0; c < s.C; ++c)
        for (int64_t f = 0; f < s.F; ++f) {
          float acc = 0.0f;
          for (int64_t n = 0; n < s.N; ++n)
            for (int64_t oh = 0; oh < s.OH; ++oh) {
              const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
              if (ih < 0 || ih >= s.H) continue;
              for (int64_t ow = 0; ow < s.OW; ++ow) {
                const int64_t iw = ow * s.SW - s.PL + kw * s.DW;
                if (iw < 0 || iw >= s.W) continue;
                acc += x[((n * s.H + ih) * s.W + iw) * s.C + c] * dy[((n * s.OH + oh) * s.OW + ow) * s.F + f];
              }
            }
          dw[((kh * s.KW + kw) * s.C + c) * s.F + f] += acc;  // accumulate
        }
  if (db)
    for (int64_t f = 0; f < s.F; ++f) {
      float acc = 0.0f;
      for (int64_t p = 0; p < s.N * s.OH * s.OW; ++p) acc += dy[p * s.F + f];
      db[f] += acc;  // accumulate
    }
}

// ------------------------------------------------------------------------------------------------
// im2col_gemm
// ------------------------------------------------------------------------------------------------

namespace {

// Floats of unfolded columns one thread keeps (1 MB: half the 2 MB L2, so the GEMM that follows
// reads col from L2 while the packed weights and its own A/B blocks fit beside it).
constexpr int64_t kColBudget = int64_t(1) << 18;
// Below this many flops a conv runs on one thread (a parallel region costs a few us).
constexpr double kParallelFlops = 2.0e6;

// Per-thread scratch, grown on demand and kept (OpenMP pool threads persist between calls).
float* scratch(int slot, int64_t floats) {
  thread_local std::vector<float> bufs[2];
  auto& b = bufs[slot];
  if (static_cast<int64_t>(b.size()) < floats) b.resize(static_cast<size_t>(floats));
  return b.data();
}

// Short runs (C = 1 or 3 gives runs of 3-15 floats) are copied inline: a libc call per run costs
// more than the copy itself.
inline void copy_run(float* dst, const float* src, int64_t n) {
  if (n > 16) { std::memcpy(dst, src, n * sizeof(float)); return; }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}
inline void zero_run(float* dst, int64_t n) {
  if (n > 16) { std::memset(dst, 0, n * sizeof(float)); return; }
  for (int64_t i = 0; i < n; ++i) dst[i] = 0.0f;
}

bool is_pointwise(const ConvShape& s) {  // 1x1, stride 1, no padding: x (P, C) is already col
  return s.KH == 1 && s.KW == 1 && s.SH == 1 && s.SW == 1 && s.PT == 0 && s.PL == 0 && s.OH == s.H &&
         s.OW == s.W;
}

}  // namespace

// Unfold output rows [r0, r1) (a row is one (n, oh) pair, OW pixels) into
// col[(r - r0) * OW + ow][(kh * KW + kw) * C + c] = x[n, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW, c] or 0.
void conv_im2col_rows(float* col,        // ((r1 - r0) * OW, KC)
                 const float* x,    // (N, H, W, C)
                 const ConvShape& s, int64_t r0, int64_t r1) {
  const int64_t C = s.C, KWC = s.KW * C, KC = s.KH * KWC;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.OH, oh = r % s.OH;
    const float* xn = x + n * s.H * s.W * C;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      float* dst = col + ((r - r0) * s.OW + ow) * KC;
      const int64_t iw0 = ow * s.SW - s.PL;
      for (int64_t kh = 0; kh < s.KH; ++kh, dst += KWC) {
        const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
        if (ih < 0 || ih >= s.H) { zero_run(dst, KWC); continue; }
        const float* xrow = xn + ih * s.W * C;
        if (s.DW == 1) {  // the KW taps are one contiguous run of x: copy the in-image part
          const int64_t lo = std::clamp<int64_t>(-iw0, 0, s.KW);
          const int64_t hi = std::clamp<int64_t>(s.W - iw0, lo, s.KW);
          zero_run(dst, lo * C);
          copy_run(dst + lo * C, xrow + (iw0 + lo) * C, (hi - lo) * C);
          zero_run(dst + hi * C, (s.KW - hi) * C);
        } else {
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            const int64_t iw = iw0 + kw * s.DW;
            if (iw < 0 || iw >= s.W) zero_run(dst + kw * C, C);
            else copy_run(dst + kw * C, xrow + iw * C, C);
          }
        }
      }
    }
  }
}

namespace {

// The adjoint of conv_im2col_rows: dx[n, ih, iw, c] += dcol[...] for every in-image tap of rows [r0, r1).
void col2im_rows(float* dx,           // (N, H, W, C), accumulated
                 const float* dcol,   // ((r1 - r0) * OW, KC)
                 const ConvShape& s, int64_t r0, int64_t r1) {
  const int64_t C = s.C, KWC = s.KW * C, KC = s.KH * KWC;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.OH, oh = r % s.OH;
    float* dxn = dx + n * s.H * s.W * C;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      const float* src = dcol + ((r - r0) * s.OW + ow) * KC;
      const int64_t iw0 = ow * s.SW - s.PL;
      for (int64_t kh = 0; kh < s.KH; ++kh, src += KWC) {
        const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
        if (ih < 0 || ih >= s.H) continue;
        float* drow = dxn + ih * s.W * C;
        if (s.DW == 1) {
          const int64_t lo = std::clamp<int64_t>(-iw0, 0, s.KW);
          const int64_t hi = std::clamp<int64_t>(s.W - iw0, lo, s.KW);
          float* d = drow + (iw0 + lo) * C;
          const float* v = src + lo * C;
          for (int64_t i = 0; i < (hi - lo) * C; ++i) d[i] += v[i];
        } else {
          for (int64_t kw = 0; kw < s.KW; ++kw) {
            const int64_t iw = iw0 + kw * s.DW;
            if (iw < 0 || iw >= s.W) continue;
            float* d = drow + iw * C;
            const float* v = src + kw * C;
            for (int64_t c = 0; c < C; ++c) d[c] += v[c];
          }
        }
      }
    }
  }
}

// How the N*OH output rows are cut into chunks and how many threads take them.
struct Chunking {
  int64_t rows;    // output rows per chunk (the last may be shorter)
  int64_t chunks;
  int threads;
};

// min_rows: lower bound on the rows of a chunk (backward-data needs it, see there).
Chunking make_chunks(const ConvShape& s, int64_t min_rows) {
  const int64_t total = s.N * s.OH, KC = s.KH * s.KW * s.C;
  const double flops = 2.0 * s.N * s.OH * s.OW * KC * s.F;
  const int nt = flops < kParallelFlops ? 1 : num_threads();
  int64_t rows = std::max<int64_t>(1, kColBudget / std::max<int64_t>(1, s.OW * KC));
  // at least two chunks per thread, so a thread slowed down by a neighbour on the machine is not
  // left holding a quarter of the work
  if (nt > 1) rows = std::min(rows, std::max<int64_t>(1, (total + 2 * nt - 1) / (2 * nt)));
  rows = std::min(std::max(rows, min_rows), total);
  const int64_t chunks = (total + rows - 1) / rows;
  return {rows, chunks, static_cast<int>(std::min<int64_t>(nt, chunks))};
}

void add_bias_rows(float* y, const float* b, int64_t P, int64_t F) {
  for (int64_t p = 0; p < P; ++p)
    for (int64_t f = 0; f < F; ++f) y[p * F + f] += b[f];
}

}  // namespace

void conv2d_forward_im2col_gemm(float* y, const float* x, const float* w, const float* b,
                                const ConvShape& s) {
  const int64_t KC = s.KH * s.KW * s.C, F = s.F;
  if (is_pointwise(s)) {  // y (P, F) = x (P, C) @ w (C, F): one GEMM on all threads
    const int64_t P = s.N * s.OH * s.OW;
    gemm(y, x, w, P, F, s.C, false, false);
    if (b) bias_add_forward(y, y, b, P, F);
    return;
  }
  const Chunking ck = make_chunks(s, 1);
  const int64_t total = s.N * s.OH;
#ifdef NK_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(ck.threads) if (ck.threads > 1)
#endif
  for (int64_t ch = 0; ch < ck.chunks; ++ch) {
    const int64_t r0 = ch * ck.rows, r1 = std::min(total, r0 + ck.rows), rows = (r1 - r0) * s.OW;
    float* col = scratch(0, rows * KC);
    conv_im2col_rows(col, x, s, r0, r1);
    float* yc = y + r0 * s.OW * F;
    gemm(yc, col, w, rows, F, KC, false, false);  // y_chunk (rows, F) = col (rows, KC) @ w (KC, F)
    if (b) add_bias_rows(yc, b, rows, F);
  }
}

void conv2d_backward_data_im2col_gemm(float* dx, const float* dy, const float* w, const ConvShape& s) {
  const int64_t KC = s.KH * s.KW * s.C, F = s.F;
  if (is_pointwise(s)) {  // dx (P, C) = dy (P, F) @ w^T, w stored (C, F)
    gemm(dx, dy, w, s.N * s.H * s.W, s.C, F, false, true);
    return;
  }
  fill(dx, 0.0f, s.N * s.H * s.W * s.C);
  // Chunks i and i+2 must not touch the same dx row, so that all even (then all odd) chunks can
  // scatter-add at once: chunk i reaches input row last_oh*SH - PT + (KH-1)*DH and chunk i+2 starts at
  // (last_oh + rows + 1)*SH - PT or later, so (rows + 1)*SH > (KH-1)*DH is enough. (Rows of different
  // images never overlap.)
  const int64_t min_rows = std::max<int64_t>(1, (s.KH - 1) * s.DH / s.SH);
  const Chunking ck = make_chunks(s, min_rows);
  const int64_t total = s.N * s.OH;
  for (int phase = 0; phase < 2; ++phase) {
#ifdef NK_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(ck.threads) if (ck.threads > 1)
#endif
    for (int64_t ch = phase; ch < ck.chunks; ch += 2) {
      const int64_t r0 = ch * ck.rows, r1 = std::min(total, r0 + ck.rows), rows = (r1 - r0) * s.OW;
      float* dcol = scratch(0, rows * KC);
      // dcol (rows, KC) = dy_chunk (rows, F) @ w^T, w stored (KC, F)
      gemm(dcol, dy + r0 * s.OW * F, w, rows, KC, F, false, true);
      col2im_rows(dx, dcol, s, r0, r1);
    }
  }
}

void conv2d_backward_weights_im2col_gemm(float* dw, float* db, const float* dy, const float* x,
                                         const ConvShape& s) {
  const int64_t KC = s.KH * s.KW * s.C, F = s.F;
  if (db) bias_add_backward(db, dy, s.N * s.OH * s.OW, F);  // db += column sums of dy (P, F)
  if (is_pointwise(s)) {  // dw (C, F) += x^T @ dy, x stored (P, C)
    gemm(dw, x, dy, s.C, F, s.N * s.H * s.W, true, false, 1.0f, 1.0f);
    return;
  }
  Chunking ck = make_chunks(s, 1);
  // Per-thread partial dw: thread 0 accumulates straight into dw, the others into zeroed private
  // buffers added afterwards in thread order. Each thread takes a fixed contiguous run of chunks, so
  // the sum order depends on the thread count only. Huge kernels (> 8 MB of dw) keep one buffer and
  // run the chunks in sequence, each GEMM on all threads.
  if (KC * F > (int64_t(2) << 20)) ck.threads = 1;
  const int nt = ck.threads;
  std::vector<float> partial(static_cast<size_t>((nt - 1) * KC * F), 0.0f);
  const int64_t total = s.N * s.OH;
#ifdef NK_OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
  {
    const int t = nt > 1 ? thread_id() : 0;
    float* acc = t == 0 ? dw : partial.data() + (t - 1) * KC * F;
    const int64_t per = (ck.chunks + nt - 1) / nt;
    for (int64_t ch = t * per; ch < std::min(ck.chunks, (t + 1) * per); ++ch) {
      const int64_t r0 = ch * ck.rows, r1 = std::min(total, r0 + ck.rows), rows = (r1 - r0) * s.OW;
      float* col = scratch(0, rows * KC);
      conv_im2col_rows(col, x, s, r0, r1);
      // acc (KC, F) += col^T (KC, rows) @ dy_chunk (rows, F), col stored (rows, KC)
      gemm(acc, col, dy + r0 * s.OW * F, KC, F, rows, true, false, 1.0f, 1.0f);
    }
  }
  for (int t = 1; t < nt; ++t) axpy(dw, partial.data() + (t - 1) * KC * F, 1.0f, KC * F);
}

// ------------------------------------------------------------------------------------------------
// registry and dispatchers
// ------------------------------------------------------------------------------------------------

const std::vector<ConvVariant<ConvForwardFn>>& conv2d_forward_variants() {
  static const std::vector<ConvVariant<ConvForwardFn>> table = {
      {"naive", Isa::scalar, "direct 7-loop reference: per output, sum over kh, kw, c",
       &conv2d_forward_naive},
      {"im2col_gemm", Isa::scalar,
       "chunks of output rows unfolded into col (rows, KH*KW*C), y = col @ w by nk::gemm (1x1: no unfold)",
       &conv2d_forward_im2col_gemm},
      {"direct_avx512", Isa::avx512,
       "implicit GEMM: MR pixels x 16*NV filters in zmm, weights read in place, zero-padded input rows; "
       "one filter from C >= 16: dot products vectorised along channels",
       &conv2d_forward_direct_avx512},
  };
  return table;
}

const std::vector<ConvVariant<ConvBackwardDataFn>>& conv2d_backward_data_variants() {
  static const std::vector<ConvVariant<ConvBackwardDataFn>> table = {
      {"naive", Isa::scalar, "direct loops: scatter dy[n,oh,ow,:] . w[kh,kw,c,:] into every tap of dx",
       &conv2d_backward_data_naive},
      {"im2col_gemm", Isa::scalar,
       "per chunk dcol = dy @ w^T by nk::gemm, then col2im scatter-add (even chunks, then odd)",
       &conv2d_backward_data_im2col_gemm},
      {"direct_avx512", Isa::avx512,
       "stride 1, C >= 16: direct_avx512's forward kernel on dy with flipped, transposed taps; else im2col_gemm",
       &conv2d_backward_data_direct_avx512},
  };
  return table;
}

const std::vector<ConvVariant<ConvBackwardWeightsFn>>& conv2d_backward_weights_variants() {
  static const std::vector<ConvVariant<ConvBackwardWeightsFn>> table = {
      {"naive", Isa::scalar, "direct loops: per weight, sum x * dy over n, oh, ow",
       &conv2d_backward_weights_naive},
      {"im2col_gemm", Isa::scalar,
       "per chunk dw += col^T @ dy by nk::gemm, per-thread partial dw reduced in thread order",
       &conv2d_backward_weights_im2col_gemm},
      {"direct_avx512", Isa::avx512,
       "per tap dw += X_tap^T @ dy in 14-channel x 32-filter zmm tiles (C < 16: over im2col rows)",
       &conv2d_backward_weights_direct_avx512},
  };
  return table;
}

namespace {

template <class Fn>
const ConvVariant<Fn>& find_variant(const std::vector<ConvVariant<Fn>>& table, const char* op,
                                    const char* name) {
  if (std::string(name) == "auto") {
    const ConvVariant<Fn>* best = &table.front();
    for (const auto& v : table)
      if (static_cast<int>(v.isa) <= static_cast<int>(active_isa())) best = &v;
    return *best;
  }
  std::string known;
  for (const auto& v : table) {
    if (std::string(v.name) == name) {
      NK_CHECK(static_cast<int>(v.isa) <= static_cast<int>(active_isa()), op, " variant '", name,
               "' needs ", isa_name(v.isa), " but the active ISA is ", isa_name(active_isa()));
      return v;
    }
    known += (known.empty() ? "" : ", ") + std::string(v.name);
  }
  throw std::invalid_argument(msg("unknown ", op, " variant '", name, "': choose one of ", known, ", auto"));
}

// A conv with no output pixels, no input channels or no filters: no variant needs to see it.
bool conv_empty(const ConvShape& s) { return s.N * s.OH * s.OW == 0 || s.C == 0 || s.F == 0; }

}  // namespace

void conv2d_forward(float* y, const float* x, const float* w, const float* b, const ConvShape& s,
                    const char* variant) {
  const auto& v = find_variant(conv2d_forward_variants(), "conv2d_forward", variant);
  if (!conv_empty(s)) return v.fn(y, x, w, b, s);
  const int64_t P = s.N * s.OH * s.OW;  // empty sum over kh, kw, c: y = b (or 0)
  for (int64_t p = 0; p < P; ++p)
    for (int64_t f = 0; f < s.F; ++f) y[p * s.F + f] = b ? b[f] : 0.0f;
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvShape& s,
                          const char* variant) {
  const auto& v = find_variant(conv2d_backward_data_variants(), "conv2d_backward_data", variant);
  if (!conv_empty(s)) return v.fn(dx, dy, w, s);
  std::fill(dx, dx + s.N * s.H * s.W * s.C, 0.0f);
}

void conv2d_backward_weights(float* dw, float* db, const float* dy, const float* x, const ConvShape& s,
                             const char* variant) {
  const auto& v = find_variant(conv2d_backward_weights_variants(), "conv2d_backward_weights", variant);
  if (!conv_empty(s)) return v.fn(dw, db, dy, x, s);
  if (db && s.N * s.OH * s.OW > 0) bias_add_backward(db, dy, s.N * s.OH * s.OW, s.F);  // dw: nothing to add
}

// ------------------------------------------------------------------------------------------------
// transposed convolution: the same kernels with the roles of input and output exchanged
// ------------------------------------------------------------------------------------------------

void conv2d_transpose_forward(float* yt, const float* xt, const float* w, const float* bt,
                              const ConvShape& s, const char* variant) {
  conv2d_backward_data(yt, xt, w, s, variant);  // yt = conv^T(xt): the adjoint of conv2d
  if (bt) bias_add_forward(yt, yt, bt, s.N * s.H * s.W, s.C);
}

void conv2d_transpose_backward_data(float* dxt, const float* dyt, const float* w, const ConvShape& s,
                                    const char* variant) {
  conv2d_forward(dxt, dyt, w, nullptr, s, variant);  // the adjoint of the adjoint is the conv itself
}

void conv2d_transpose_backward_weights(float* dw, float* dbt, const float* dyt, const float* xt,
                                       const ConvShape& s, const char* variant) {
  // yt[p_in, c] = sum xt[p_out, f] w[tap, c, f]: the same bilinear form as conv2d with x := dyt and
  // dy := xt, so dw += the conv2d weight gradient of (x = dyt, dy = xt). The bias sums dyt instead.
  conv2d_backward_weights(dw, nullptr, xt, dyt, s, variant);
  if (dbt && s.N * s.H * s.W > 0) bias_add_backward(dbt, dyt, s.N * s.H * s.W, s.C);
}

}  // namespace nk
