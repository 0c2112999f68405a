// conv_avx512.cpp - direct_avx512: conv2d forward as an implicit GEMM with an AVX-512 register tile.
//
// Size letters as in conv.h. The GEMM is y (P, F) = col (P, KC) @ w (KC, F) without building col:
//   - w is read in place: in Keras layout (KH, KW, C, F) the F filters of one tap/channel are
//     contiguous, i.e. w is already a row-major (KC, F) B operand (no packing).
//   - the A operand is read straight from a zero-padded copy of the input rows a chunk needs
//     (1x the input instead of KH*KW x for im2col): pixel m of a tile, tap (kh, kw), channel c is
//     xp[(oh*SH + kh*DH) row][(ow0 + m)*SW + kw*DW][c], so every tap is in range and no branch
//     on padding remains in the inner loop. Any stride, dilation and padding.
// Register tile: MR output pixels of one output row x NV zmm of 16 filters; per (tap, c) step NV
// weight loads + MR broadcasts feed MR*NV FMAs (MR x NV = 14|12|10|8 x 1 or 2, 8x3, 6x4: <= 28 accumulators).
// The last filter vector is masked (F = 6 uses 6 of 16 lanes); a pixel tile past OW computes on the
// zero padding and stores only the valid rows. Threads take chunks of whole output rows of one image.
// One filter from C >= 16 channels (a DCGAN generator's 128 -> 1 output layer) takes its own path,
// vectorised along channels (single_filter_tile below): 64x28x28x128 -> 1 7x7 'same' measured 10.6 ms
// against 55 ms through the filter-lane tile or im2col_gemm and 43 ms for torch (2 threads, Zen 4).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/conv.h"
#include "cpu/elementwise.h"

namespace nk {
namespace {

constexpr int kVL = 16;
constexpr int64_t kPadBudget = int64_t(1) << 16;  // floats of padded input per chunk (256 KB)

// y[0:rows, 0:NV*16 (last vector masked)] = b + sum_{kh, kw, c} xp[pixel m, tap] * w[tap, c, 0:NV*16]
template <int MR, int NV>
void tile(float* __restrict y,          // (rows, F): MR pixels of one output row, ldy = F
          const float* __restrict xp,   // padded input at pixel 0's top-left tap, rows x_row apart
          const float* __restrict w,    // (KH, KW, C, F) at filter f0
          const float* __restrict b,    // (F) at f0, or null
          const ConvShape& s, int64_t x_pix, int64_t x_row, int rows, __mmask16 last) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_setzero_ps();
  const int64_t C = s.C, F = s.F, KW = s.KW, taps = s.KH * s.KW;
  // taps as one loop (short C, e.g. 3, would otherwise pay a kw-loop exit per 3 steps)
  for (int64_t t = 0; t < taps; ++t) {
    const int64_t kh = t / KW, kw = t % KW;
    const float* xk = xp + kh * s.DH * x_row + kw * s.DW * C;
    const float* wk = w + t * C * F;
    for (int64_t c = 0; c < C; ++c, wk += F) {
      __m512 wv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        wv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, wk + v * kVL) : _mm512_loadu_ps(wk + v * kVL);
      const float* xc = xk + c;
#pragma GCC unroll 16
      for (int m = 0; m < MR; ++m) {
        const __m512 xb = _mm512_set1_ps(xc[m * x_pix]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_fmadd_ps(xb, wv[v], acc[m][v]);
      }
    }
  }
  __m512 bv[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v)
    bv[v] = !b ? _mm512_setzero_ps()
               : v == NV - 1 ? _mm512_maskz_loadu_ps(last, b + v * kVL) : _mm512_loadu_ps(b + v * kVL);
  // constant trip counts (and a test on rows) keep acc[][] in registers: a runtime bound here would
  // make GCC keep the whole array in memory and store it on every step of the loop above
#pragma GCC unroll 16
  for (int m = 0; m < MR; ++m) {
    if (m >= rows) break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m512 out = _mm512_add_ps(acc[m][v], bv[v]);
      if (v == NV - 1) _mm512_mask_storeu_ps(y + m * F + v * kVL, last, out);
      else _mm512_storeu_ps(y + m * F + v * kVL, out);
    }
  }
}

// One output row (n, oh): every filter block, every pixel tile. xr is the padded input row the
// row's top taps start at.
template <int MR, int NV>
void row_block(float* y, const float* xr, const float* w, const float* b, const ConvShape& s,
               int64_t x_pix, int64_t x_row, int64_t f0, int nv_last_lanes) {
  const __mmask16 last = static_cast<__mmask16>((1u << nv_last_lanes) - 1);
  for (int64_t ow0 = 0; ow0 < s.OW; ow0 += MR) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, s.OW - ow0));
    tile<MR, NV>(y + ow0 * s.F + f0, xr + ow0 * x_pix, w + f0, b ? b + f0 : nullptr, s, x_pix, x_row,
                 rows, last);
  }
}

using RowFn = void (*)(float*, const float*, const float*, const float*, const ConvShape&, int64_t,
                       int64_t, int64_t, int);

// Tile shapes per number of filter vectors: <= 28 accumulators + NV weights + 1 broadcast registers.
// For 1 or 2 vectors the pixel count MR is chosen per layer from 14 / 12 / 10 / 8 to waste the fewest
// pixels at the end of a row (OW = 10, LeNet conv2: one 10-pixel tile instead of 14 with 4 idle).
struct TileChoice { int mr; RowFn fn; };
constexpr TileChoice kTiles1[4] = {{14, &row_block<14, 1>}, {12, &row_block<12, 1>}, {10, &row_block<10, 1>},
                                   {8, &row_block<8, 1>}};
constexpr TileChoice kTiles2[4] = {{14, &row_block<14, 2>}, {12, &row_block<12, 2>}, {10, &row_block<10, 2>},
                                   {8, &row_block<8, 2>}};

RowFn pick_row_fn(int nv, int64_t OW) {
  if (nv == 3) return &row_block<8, 3>;
  if (nv == 4) return &row_block<6, 4>;
  const TileChoice* tiles = nv == 1 ? kTiles1 : kTiles2;
  int best = 0;
  for (int i = 1; i < 4; ++i)  // fewest computed pixels; ties keep the larger tile
    if ((OW + tiles[i].mr - 1) / tiles[i].mr * tiles[i].mr < (OW + tiles[best].mr - 1) / tiles[best].mr * tiles[best].mr)
      best = i;
  return tiles[best].fn;
}

float* pad_scratch(int64_t floats) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < floats) buf.resize(static_cast<size_t>(floats));
  return buf.data();
}

}  // namespace

// One filter (F == 1) from C >= 16 channels, e.g. a DCGAN generator's output layer (128 channels ->
// 1 image channel, 7x7): the tile above would use 1 of its 16 filter lanes. Here each output pixel
// is a dot product over (kh, kw, c) vectorised along c: T pixels of one output row share each
// weight vector w[kh, kw, c:c+16] (1 + T loads feed T FMAs), and each accumulator's 16 lanes are
// summed once at the end. Taps in the padding are skipped per pixel.
//   y[n, oh, ow0 + t] = b + sum_{kh, kw} sum_c x[n, oh*SH - PT + kh*DH, (ow0+t)*SW - PL + kw*DW, c] * w[kh, kw, c]
template <int T>
void single_filter_tile(float* __restrict y,          // (OW,): output row oh of image n
                        const float* __restrict x,    // (H, W, C): image n
                        const float* __restrict w,    // (KH, KW, C)
                        float bias, const ConvShape& s, int64_t oh, int64_t ow0, int count) {
  const int64_t C = s.C, cfull = C / kVL * kVL;
  const __mmask16 tail = static_cast<__mmask16>((1u << (C % kVL)) - 1u);
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const int64_t ih = oh * s.SH - s.PT + kh * s.DH;
    if (ih < 0 || ih >= s.H) continue;
    const float* xrow = x + ih * s.W * C;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const float* wt = w + (kh * s.KW + kw) * C;
      const float* xp[T];
      bool ok[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const int64_t iw = (ow0 + t) * s.SW - s.PL + kw * s.DW;
        ok[t] = t < count && iw >= 0 && iw < s.W;
        xp[t] = xrow + (ok[t] ? iw : 0) * C;
      }
      for (int64_t c = 0; c < cfull; c += kVL) {
        const __m512 wv = _mm512_loadu_ps(wt + c);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t)
          if (ok[t]) acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(xp[t] + c), wv, acc[t]);
      }
      if (tail) {
        const __m512 wv = _mm512_maskz_loadu_ps(tail, wt + cfull);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t)
          if (ok[t]) acc[t] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, xp[t] + cfull), wv, acc[t]);
      }
    }
  }
  for (int t = 0; t < count; ++t) y[ow0 + t] = bias + _mm512_reduce_add_ps(acc[t]);
}

void conv2d_forward_single_filter_avx512(float* y, const float* x, const float* w, const float* b,
                                         const ConvShape& s) {
  constexpr int T = 8;
  const double flops = 2.0 * s.N * s.OH * s.OW * s.KH * s.KW * s.C;
  const int nt = flops < 2.0e6 ? 1 : num_threads();
  const float bias = b ? b[0] : 0.0f;
  const int64_t rows = s.N * s.OH;
#ifdef NK_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / s.OH, oh = r % s.OH;
    for (int64_t ow0 = 0; ow0 < s.OW; ow0 += T)
      single_filter_tile<T>(y + r * s.OW, x + n * s.H * s.W * s.C, w, bias, s, oh, ow0,
                            static_cast<int>(std::min<int64_t>(T, s.OW - ow0)));
  }
}

void conv2d_forward_direct_avx512(float* y, const float* x, const float* w, const float* b,
                                  const ConvShape& s) {
  if (conv2d_lanes_fits(s, false)) return conv2d_forward_lanes_avx512(y, x, w, b, s);
  if (s.F == 1 && s.C >= kVL) return conv2d_forward_single_filter_avx512(y, x, w, b, s);
  const int64_t C = s.C, F = s.F;
  // Filter vectors per tile, measured (1 thread, CPU time): with a long reduction (KC = 576, 1152)
  // 14 x 2 beats 6 x 4 by ~5 % (more pixels per weight load); with a short one (C = 3, KC = 27) 6 x 4
  // is 2x faster (one pass over the input instead of two, tile set-up amortised over 64 filters).
  const int64_t nv_max = s.KH * s.KW * C < 128 ? 4 : 2;
  // Padded row width: a tile of MR pixels starting before OW reads up to pixel OW - 1 + (MR - 1)
  // <= OW + 12 at its last tap.
  const int64_t Wp = std::max(s.W + s.PL, (s.OW + 12) * s.SW + (s.KW - 1) * s.DW + 1);
  const int64_t x_pix = s.SW * C, x_row = Wp * C;
  // Output rows per chunk so the padded input rows fit the budget; chunks never cross images.
  const int64_t in_rows_per_out = s.SH;
  int64_t R = std::max<int64_t>(1, kPadBudget / (in_rows_per_out * x_row));
  const double flops = 2.0 * s.N * s.OH * s.OW * s.KH * s.KW * C * F;
  const int nt = flops < 2.0e6 ? 1 : num_threads();
  if (nt > 1) R = std::min(R, std::max<int64_t>(1, (s.N * s.OH + 2 * nt - 1) / (2 * nt)));
  R = std::min(R, s.OH);
  const int64_t per_image = (s.OH + R - 1) / R, chunks = s.N * per_image;

#ifdef NK_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
#endif
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const int64_t n = ch / per_image, oh0 = (ch % per_image) * R, oh1 = std::min(s.OH, oh0 + R);
    // input rows ih0 .. ih0 + Hp - 1 (ih0 may be negative: top padding), columns -PL .. Wp - PL - 1
    const int64_t ih0 = oh0 * s.SH - s.PT;
    const int64_t Hp = (oh1 - 1 - oh0) * s.SH + (s.KH - 1) * s.DH + 1;
    float* xp = pad_scratch(Hp * x_row);
    for (int64_t r = 0; r < Hp; ++r) {
      float* dst = xp + r * x_row;
      const int64_t ih = ih0 + r;
      if (ih < 0 || ih >= s.H) { std::memset(dst, 0, x_row * sizeof(float)); continue; }
      const int64_t lo = s.PL, hi = std::min(Wp, s.PL + s.W);  // padded columns holding x
      std::memset(dst, 0, lo * C * sizeof(float));
      std::memcpy(dst + lo * C, x + ((n * s.H + ih) * s.W) * C, (hi - lo) * C * sizeof(float));
      std::memset(dst + hi * C, 0, (Wp - hi) * C * sizeof(float));
    }
    for (int64_t f0 = 0; f0 < F;) {
      const int64_t left = F - f0;
      const int nv = std::min<int64_t>(nv_max, (left + kVL - 1) / kVL);
      const int64_t width = std::min<int64_t>(left, nv * kVL);
      const int last_lanes = static_cast<int>(width - (nv - 1) * kVL);
      const RowFn row_fn = pick_row_fn(nv, s.OW);
      for (int64_t oh = oh0; oh < oh1; ++oh)
        row_fn(y + ((n * s.OH + oh) * s.OW) * F, xp + (oh - oh0) * s.SH * x_row, w, b, s, x_pix, x_row,
                 f0, last_lanes);
      f0 += width;
    }
  }
}

// Backward-data at stride 1 is itself a stride-1 conv: dx[ih] = sum_kh dy[ih + PT - kh*DH] . w[kh]^T,
// i.e. a conv of dy with the taps flipped (kh -> KH-1-kh), each tap's (C, F) matrix transposed, and
// padding (KH-1)*DH - PT before. Strided convs (dy has holes in dx's frame), explicit padding
// larger than the dilated kernel and fewer than 16 input channels go to im2col_gemm, except the few
// channels the lane-packed forward suits (C < 16 with every lane busy: e.g. LeNet's conv1, C = 1).
void conv2d_backward_data_direct_avx512(float* dx, const float* dy, const float* w, const ConvShape& s) {
  const int64_t pt = (s.KH - 1) * s.DH - s.PT, pl = (s.KW - 1) * s.DW - s.PL;
  const int64_t C = s.C, F = s.F, taps = s.KH * s.KW;
  const ConvShape t{s.N, s.OH, s.OW, F, C, s.KH, s.KW, 1, 1, s.DH, s.DW, pt, pl, s.H, s.W};
  // C < 16 would leave most lanes of the tile's filter vectors idle (C = 3: 3 of 16; measured 2x
  // slower than im2col_gemm on 8x224x224x3->64 and LeNet's 1->6 and 6->16).
  if (s.SH != 1 || s.SW != 1 || pt < 0 || pl < 0 || (s.C < 16 && !conv2d_lanes_fits(t, false)))
    return conv2d_backward_data_im2col_gemm(dx, dy, w, s);
  std::vector<float> wt(static_cast<size_t>(taps * F * C));  // (KH, KW, F, C), taps reversed
  for (int64_t k = 0; k < taps; ++k)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t f = 0; f < F; ++f) wt[((taps - 1 - k) * F + f) * C + c] = w[(k * C + c) * F + f];
  conv2d_forward_direct_avx512(dx, dy, wt.data(), nullptr, t);
}

// Backward-weights: for each tap, dw[tap] (C, F) += X_tap^T (C, P) @ dy (P, F), X_tap[p, c] the input
// pixel tap (kh, kw) of output pixel p sees. Register tile: MR = 14 channels x NV zmm of filters; per
// output pixel 14 broadcasts of consecutive channels (contiguous in NHWC) and NV loads of dy feed
// 14*NV FMAs, over all the pixels of a chunk, so the tile is stored once per chunk. Inputs come from
// the same zero-padded row copy as the forward. Per-thread partial dw, reduced in thread order.
namespace {

constexpr int kMRW = 14;

template <int NV>
void weight_tile(float* __restrict dw,         // (C, F) block of one tap at (c0, f0), accumulated
                 const float* __restrict xp,   // padded input at (this chunk's first row, tap, c0)
                 const float* __restrict dy,   // (rows, OW, F) at f0
                 const ConvShape& s, int64_t rows, int64_t x_pix, int64_t x_row, int chans,
                 __mmask16 last) {
  __m512 acc[kMRW][NV];
#pragma GCC unroll 16
  for (int m = 0; m < kMRW; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_setzero_ps();
  const int64_t F = s.F;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = xp + r * s.SH * x_row;
    const float* dr = dy + r * s.OW * F;
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      const float* xc = xr + ow * x_pix;
      const float* d = dr + ow * F;
      __m512 dv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        dv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, d + v * kVL) : _mm512_loadu_ps(d + v * kVL);
#pragma GCC unroll 16
      for (int m = 0; m < kMRW; ++m) {
        const __m512 xb = _mm512_set1_ps(xc[m]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_fmadd_ps(xb, dv[v], acc[m][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int m = 0; m < kMRW; ++m) {
    if (m >= chans) break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* o = dw + m * F + v * kVL;
      if (v == NV - 1) _mm512_mask_storeu_ps(o, last, _mm512_add_ps(_mm512_maskz_loadu_ps(last, o), acc[m][v]));
      else _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), acc[m][v]));
    }
  }
}

}  // namespace

namespace {

// C < 16 (first layers): 14 consecutive channels of one tap do not exist, but 14 consecutive entries
// of an im2col row (taps x channels, KC = KH*KW*C) do. Unfold chunks of rows (256 KB) and run the
// same register tile over col, one "pixel" per col row: dw (KC, F) += col^T @ dy. nk::gemm on the
// same col (im2col_gemm) would pack col again and use 6 of 32 lanes of its tile for F = 6.
void backward_weights_small_c(float* dw, float* db, const float* dy, const float* x, const ConvShape& s) {
  const int64_t KC = s.KH * s.KW * s.C, F = s.F, KCF = KC * F, total = s.N * s.OH;
  if (db) bias_add_backward(db, dy, s.N * s.OH * s.OW, F);
  int64_t R = std::max<int64_t>(1, kPadBudget / (s.OW * KC));
  const double flops = 2.0 * s.N * s.OH * s.OW * KCF;
  int nt = flops < 2.0e6 ? 1 : num_threads();
  if (nt > 1) R = std::min(R, std::max<int64_t>(1, (total + 2 * nt - 1) / (2 * nt)));
  R = std::min(R, total);
  const int64_t chunks = (total + R - 1) / R;
  nt = static_cast<int>(std::min<int64_t>(nt, chunks));
  std::vector<float> partial(static_cast<size_t>((nt - 1) * KCF), 0.0f);
#ifdef NK_OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
  {
    const int t = nt > 1 ? thread_id() : 0;
    float* acc = t == 0 ? dw : partial.data() + (t - 1) * KCF;
    const int64_t per = (chunks + nt - 1) / nt;
    for (int64_t ch = t * per; ch < std::min(chunks, (t + 1) * per); ++ch) {
      const int64_t r0 = ch * R, r1 = std::min(total, r0 + R), pixels = (r1 - r0) * s.OW;
      float* col = pad_scratch(pixels * KC + kMRW);  // + kMRW: the last tile reads past the end
      conv_im2col_rows(col, x, s, r0, r1);
      std::memset(col + pixels * KC, 0, kMRW * sizeof(float));
      ConvShape cs = s;  // col as one row of `pixels` pixels, KC floats apart
      cs.OW = pixels;
      cs.SH = 1;
      for (int64_t c0 = 0; c0 < KC; c0 += kMRW) {
        const int chans = static_cast<int>(std::min<int64_t>(kMRW, KC - c0));
        for (int64_t f0 = 0; f0 < F; f0 += 2 * kVL) {
          const int64_t width = std::min<int64_t>(F - f0, 2 * kVL);
          const __mmask16 last = static_cast<__mmask16>((1u << (width > kVL ? width - kVL : width)) - 1);
          float* out = acc + c0 * F + f0;
          const float* d = dy + r0 * s.OW * F + f0;
          if (width > kVL) weight_tile<2>(out, col + c0, d, cs, 1, KC, 0, chans, last);
          else weight_tile<1>(out, col + c0, d, cs, 1, KC, 0, chans, last);
        }
      }
    }
  }
  for (int t = 1; t < nt; ++t) axpy(dw, partial.data() + (t - 1) * KCF, 1.0f, KCF);
}

}  // namespace

void conv2d_backward_weights_direct_avx512(float* dw, float* db, const float* dy, const float* x,
                                           const ConvShape& s) {
  if (conv2d_lanes_fits(s, true)) return conv2d_backward_weights_lanes_avx512(dw, db, dy, x, s);
  if (s.C < 16) return backward_weights_small_c(dw, db, dy, x, s);
  const int64_t C = s.C, F = s.F, KCF = s.KH * s.KW * C * F;
  if (db) bias_add_backward(db, dy, s.N * s.OH * s.OW, F);  // db += column sums of dy (P, F)
  const int64_t Wp = std::max(s.W + s.PL, (s.OW - 1) * s.SW + (s.KW - 1) * s.DW + 1);
  const int64_t x_pix = s.SW * C, x_row = Wp * C;
  int64_t R = std::max<int64_t>(1, kPadBudget / (s.SH * x_row));
  const double flops = 2.0 * s.N * s.OH * s.OW * KCF;
  int nt = flops < 2.0e6 || KCF > (int64_t(2) << 20) ? 1 : num_threads();
  if (nt > 1) R = std::min(R, std::max<int64_t>(1, (s.N * s.OH + 2 * nt - 1) / (2 * nt)));
  R = std::min(R, s.OH);
  const int64_t per_image = (s.OH + R - 1) / R, chunks = s.N * per_image;
  nt = static_cast<int>(std::min<int64_t>(nt, chunks));
  std::vector<float> partial(static_cast<size_t>((nt - 1) * KCF), 0.0f);
#ifdef NK_OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
  {
    const int t = nt > 1 ? thread_id() : 0;
    float* acc = t == 0 ? dw : partial.data() + (t - 1) * KCF;
    const int64_t per = (chunks + nt - 1) / nt;
    for (int64_t ch = t * per; ch < std::min(chunks, (t + 1) * per); ++ch) {
      const int64_t n = ch / per_image, oh0 = (ch % per_image) * R, oh1 = std::min(s.OH, oh0 + R);
      const int64_t ih0 = oh0 * s.SH - s.PT;
      const int64_t Hp = (oh1 - 1 - oh0) * s.SH + (s.KH - 1) * s.DH + 1;
      float* xp = pad_scratch(Hp * x_row + kMRW);  // + kMRW: a channel tile may read past the end
      for (int64_t r = 0; r < Hp; ++r) {
        float* dst = xp + r * x_row;
        const int64_t ih = ih0 + r;
        if (ih < 0 || ih >= s.H) { std::memset(dst, 0, x_row * sizeof(float)); continue; }
        const int64_t lo = s.PL, hi = std::min(Wp, s.PL + s.W);
        std::memset(dst, 0, lo * C * sizeof(float));
        std::memcpy(dst + lo * C, x + ((n * s.H + ih) * s.W) * C, (hi - lo) * C * sizeof(float));
        std::memset(dst + hi * C, 0, (Wp - hi) * C * sizeof(float));
      }
      std::memset(xp + Hp * x_row, 0, kMRW * sizeof(float));
      const float* dyc = dy + (n * s.OH + oh0) * s.OW * F;
      for (int64_t tap = 0; tap < s.KH * s.KW; ++tap) {
        const int64_t kh = tap / s.KW, kw = tap % s.KW;
        const float* xt = xp + kh * s.DH * x_row + kw * s.DW * C;
        for (int64_t c0 = 0; c0 < C; c0 += kMRW) {
          const int chans = static_cast<int>(std::min<int64_t>(kMRW, C - c0));
          for (int64_t f0 = 0; f0 < F; f0 += 2 * kVL) {
            const int64_t width = std::min<int64_t>(F - f0, 2 * kVL);
            const __mmask16 last = static_cast<__mmask16>((1u << (width > kVL ? width - kVL : width)) - 1);
            float* out = acc + (tap * C + c0) * F + f0;
            if (width > kVL) weight_tile<2>(out, xt + c0, dyc + f0, s, oh1 - oh0, x_pix, x_row, chans, last);
            else weight_tile<1>(out, xt + c0, dyc + f0, s, oh1 - oh0, x_pix, x_row, chans, last);
          }
        }
      }
    }
  }
  for (int t = 1; t < nt; ++t) axpy(dw, partial.data() + (t - 1) * KCF, 1.0f, KCF);
}

}  // namespace nk
