// conv_lanes_avx512.cpp - conv2d for few filters (F < 16) of few channels (C <= 8) at horizontal stride 1,
// used by direct_avx512: first layers such as LeNet's conv1 (C = 1, F = 6 5x5), and their backward-data
// (a conv of dy to C = 1 channel).
//
// Size letters as in conv.h. The register tiles of conv_avx512.cpp put F filters in the 16 lanes of a
// zmm, so F = 6 uses 6 lanes of 16. Here a vector holds 16 consecutive floats of one output row in
// NHWC order instead, i.e. (pixel, filter) pairs: lane j of the row's vector v is output
//   y[n, oh, ow, f]  with  16 v + j = ow F + f.
// At horizontal stride 1 the tap (kh, kw, c) of all those outputs reads
//   x[n, oh - PT + kh DH, ow - PL + kw DW, c] = xe[c][row][(ow + kw DW) F + f]
// from an "expanded" copy xe of the input rows in which every padded pixel is repeated F times, so the
// input vector is one unaligned load at offset 16 v + kw DW F, and the weight vector is a fixed
// lane pattern wpat[tap][v mod V][j] = w[tap, (16 v + j) mod F]: the pattern repeats every V vectors,
// where 16 V = P F = lcm(16, F) (F = 6: V = 3 vectors = P = 8 pixels; F = 8: V = 1, P = 2; F = 1: the
// expanded row is the input row itself).
//
//   forward            y[row, 16v..16v+15] = bpat[v mod V] + sum_taps xe[tap row][16v + kw DW F ..] * wpat[tap][v mod V]
//                      2 output rows x up to 8 vectors per register tile; one weight load feeds 2 FMAs.
//   backward-weights   dw[tap, f] += sum_{pixels} x * dy  as lane products
//                      acc[kw][v mod V] += xe[tap row][16v + kw DW F ..] * dy[row, 16v ..]
//                      (one dy load feeds NK taps of a kernel row), then the V x 16 lanes of a tap
//                      are folded onto its F filters (lane j of phase p belongs to filter (16p + j) mod F).
//                      Only V = 1 (F = 1, 2, 4, 8) and V = 3 (F = 3, 6, 12) are instantiated.
// Building xe costs one pass over the input rows per chunk (a gather per channel, then V permutes
// per P pixels), small next to the KH KW C FMAs each output vector takes.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/parallel.h"
#include "cpu/conv.h"
#include "cpu/elementwise.h"

namespace nk {
namespace {

constexpr int kVL = 16;
constexpr int64_t kBudget = int64_t(1) << 15;  // floats of expanded input per chunk (128 KB)

struct Lanes {
  int64_t V, P;      // 16 V = P F = lcm(16, F)
  int64_t Wg;        // padded input columns a row needs (OW + (KW-1) DW), rounded up to P
  int64_t stride;    // floats per expanded row: Wg F + 16 (a zero tail the last vectors may read)
  int64_t nvec;      // vectors per output row: ceil(OW F / 16)
  __mmask16 last;    // lanes of the row's last vector inside the row
  int64_t HE_max;    // input rows per chunk (per channel)
};

Lanes lanes_of(const ConvShape& s) {
  Lanes g;
  const int64_t gcd = std::gcd<int64_t>(s.F, kVL);
  g.V = s.F / gcd;
  g.P = kVL / gcd;
  g.Wg = (s.OW + (s.KW - 1) * s.DW + g.P - 1) / g.P * g.P;
  g.stride = g.Wg * s.F + kVL;
  g.nvec = (s.OW * s.F + kVL - 1) / kVL;
  const int rem = static_cast<int>(s.OW * s.F % kVL);
  g.last = rem ? static_cast<__mmask16>((1u << rem) - 1) : static_cast<__mmask16>(0xFFFF);
  g.HE_max = std::max<int64_t>((s.KH - 1) * s.DH + 1, kBudget / (s.C * g.stride));
  return g;
}

// Output rows per chunk so that its expanded input rows (per channel) stay within HE_max.
int64_t rows_per_chunk(const ConvShape& s, const Lanes& g) {
  const int64_t rows = (g.HE_max - (s.KH - 1) * s.DH - 1) / s.SH + 1;
  return std::min(s.OH, std::max<int64_t>(1, rows));
}

float* scratch(int64_t floats) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < floats) buf.resize(static_cast<size_t>(floats));
  return buf.data();
}

// xe[(c HE + r) stride + q F + f] = x[n, ih0 + r, q - PL, c] (0 in the padding), for r < HE, q < Wg.
void expand_rows(float* xe,             // (C, HE, stride)
                 const float* x,        // (N, H, W, C)
                 const ConvShape& s, const Lanes& g, int64_t n, int64_t ih0, int64_t HE) {
  __m512i idx[kVL];  // lane j of vector v repeats pixel (16 v + j) / F of a P-pixel group
  for (int64_t v = 0; v < g.V; ++v) {
    alignas(64) int32_t lane[kVL];
    for (int j = 0; j < kVL; ++j) lane[j] = static_cast<int32_t>((kVL * v + j) / s.F);
    idx[v] = _mm512_load_si512(lane);
  }
  float plane[1024 + kVL];  // one channel of one padded row; wider rows go through the heap copy
  std::vector<float> wide;
  float* pr = plane;
  if (g.Wg + kVL > 1024 + kVL) { wide.resize(static_cast<size_t>(g.Wg + kVL)); pr = wide.data(); }
  for (int64_t c = 0; c < s.C; ++c) {
    for (int64_t r = 0; r < HE; ++r) {
      float* dst = xe + (c * HE + r) * g.stride;
      const int64_t ih = ih0 + r;
      if (ih < 0 || ih >= s.H) { std::memset(dst, 0, g.stride * sizeof(float)); continue; }
      const float* src = x + ((n * s.H + ih) * s.W) * s.C + c;
      for (int64_t q = 0; q < g.Wg; ++q) {
        const int64_t iw = q - s.PL;
        pr[q] = iw >= 0 && iw < s.W ? src[iw * s.C] : 0.0f;
      }
      for (int64_t q0 = 0; q0 < g.Wg; q0 += g.P) {
        const __m512 px = _mm512_loadu_ps(pr + q0);  // reads P <= 16 valid pixels (+ stale lanes unused)
        for (int64_t v = 0; v < g.V; ++v)
          _mm512_storeu_ps(dst + q0 * s.F + v * kVL, _mm512_permutexvar_ps(idx[v], px));
      }
      std::memset(dst + g.Wg * s.F, 0, kVL * sizeof(float));
    }
  }
}

// wpat[tap][p][j] = w[tap, (16 p + j) mod F] for tap = (kh, kw, c) in Keras order, p < V.
void weight_patterns(float* wpat, const float* w, const ConvShape& s, const Lanes& g) {
  const int64_t taps = s.KH * s.KW * s.C;
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t i = 0; i < g.V * kVL; ++i) wpat[t * g.V * kVL + i] = w[t * s.F + i % s.F];
}

// ---------------------------------------------------------------------------------------------------
// forward

// R output rows x NV vectors starting at vector v0 of the row.
template <int R, int NV>
void fwd_tile(float* __restrict y,            // row oh at vector v0; rows OW F apart
              const float* __restrict xe,     // expanded rows of oh's top tap at vector v0
              const float* __restrict wpat,   // (KH KW C, V, 16)
              const float* __restrict bpat,   // (V, 16)
              const ConvShape& s, const Lanes& g, int64_t HE, int64_t v0, __mmask16 last) {
  int64_t ph[NV];  // offset of each vector's lane pattern
  for (int v = 0; v < NV; ++v) ph[v] = (v0 + v) % g.V * kVL;
  __m512 acc[R][NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const __m512 b = _mm512_loadu_ps(bpat + ph[v]);
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) acc[r][v] = b;
  }
  const int64_t row = s.SH * g.stride, tapw = s.DW * s.F;
  const float* wt = wpat;
  for (int64_t kh = 0; kh < s.KH; ++kh)
    for (int64_t kw = 0; kw < s.KW; ++kw)
      for (int64_t c = 0; c < s.C; ++c, wt += g.V * kVL) {
        const float* xk = xe + (c * HE + kh * s.DH) * g.stride + kw * tapw;
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
          const __m512 wv = _mm512_loadu_ps(wt + ph[v]);
#pragma GCC unroll 2
          for (int r = 0; r < R; ++r)
            acc[r][v] = _mm512_fmadd_ps(_mm512_loadu_ps(xk + r * row + v * kVL), wv, acc[r][v]);
        }
      }
  const int64_t ldy = s.OW * s.F;
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      if (v == NV - 1) _mm512_mask_storeu_ps(y + r * ldy + v * kVL, last, acc[r][v]);
      else _mm512_storeu_ps(y + r * ldy + v * kVL, acc[r][v]);
    }
}

using FwdTileFn = void (*)(float*, const float*, const float*, const float*, const ConvShape&,
                           const Lanes&, int64_t, int64_t, __mmask16);
template <int R>
constexpr FwdTileFn kFwd[8] = {&fwd_tile<R, 1>, &fwd_tile<R, 2>, &fwd_tile<R, 3>, &fwd_tile<R, 4>,
                               &fwd_tile<R, 5>, &fwd_tile<R, 6>, &fwd_tile<R, 7>, &fwd_tile<R, 8>};

// ---------------------------------------------------------------------------------------------------
// backward-weights

// part[(kh, kw0 + k, c)][p] += sum over `rows` output rows of xe * dy, for NK taps kw0 .. kw0 + NK - 1.
template <int V, int NK>
void bwd_taps(float* __restrict part,          // (KH KW C, V, 16) lane partials, accumulated
              const float* __restrict xe,      // (C, HE, stride) expanded rows of the chunk
              const float* __restrict dy,      // (rows, OW F) the chunk's first output row
              const ConvShape& s, const Lanes& g, int64_t HE, int64_t rows, int64_t kh, int64_t c,
              int64_t kw0) {
  __m512 acc[NK][V];
#pragma GCC unroll 8
  for (int k = 0; k < NK; ++k)
#pragma GCC unroll 3
    for (int p = 0; p < V; ++p) acc[k][p] = _mm512_setzero_ps();
  const int64_t ldy = s.OW * s.F, tapw = s.DW * s.F;
  for (int64_t r = 0; r < rows; ++r) {
    const float* d = dy + r * ldy;
    const float* xr = xe + (c * HE + r * s.SH + kh * s.DH) * g.stride + kw0 * tapw;
    int64_t v = 0;
    for (; v + V < g.nvec; v += V)  // whole groups of V vectors, the row's last vector excluded
#pragma GCC unroll 3
      for (int p = 0; p < V; ++p) {
        const __m512 dv = _mm512_loadu_ps(d + (v + p) * kVL);
#pragma GCC unroll 8
        for (int k = 0; k < NK; ++k)
          acc[k][p] = _mm512_fmadd_ps(_mm512_loadu_ps(xr + k * tapw + (v + p) * kVL), dv, acc[k][p]);
      }
#pragma GCC unroll 3
    for (int p = 0; p < V; ++p) {  // the 1 .. V vectors left; lanes past the row read dy as 0
      if (v + p >= g.nvec) break;
      const __mmask16 m = v + p == g.nvec - 1 ? g.last : static_cast<__mmask16>(0xFFFF);
      const __m512 dv = _mm512_maskz_loadu_ps(m, d + (v + p) * kVL);
#pragma GCC unroll 8
      for (int k = 0; k < NK; ++k)  // x masked too: an inf past the row must not make 0 * inf = NaN
        acc[k][p] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xr + k * tapw + (v + p) * kVL), dv, acc[k][p]);
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < NK; ++k) {
    float* out = part + ((kh * s.KW + kw0 + k) * s.C + c) * V * kVL;
#pragma GCC unroll 3
    for (int p = 0; p < V; ++p)
      _mm512_storeu_ps(out + p * kVL, _mm512_add_ps(_mm512_loadu_ps(out + p * kVL), acc[k][p]));
  }
}

using BwdTapsFn = void (*)(float*, const float*, const float*, const ConvShape&, const Lanes&, int64_t,
                           int64_t, int64_t, int64_t, int64_t);
// NK taps of a kernel row per pass: NK V <= 24 accumulators.
constexpr BwdTapsFn kBwd1[8] = {&bwd_taps<1, 1>, &bwd_taps<1, 2>, &bwd_taps<1, 3>, &bwd_taps<1, 4>,
                                &bwd_taps<1, 5>, &bwd_taps<1, 6>, &bwd_taps<1, 7>, &bwd_taps<1, 8>};
constexpr BwdTapsFn kBwd3[7] = {&bwd_taps<3, 1>, &bwd_taps<3, 2>, &bwd_taps<3, 3>, &bwd_taps<3, 4>,
                                &bwd_taps<3, 5>, &bwd_taps<3, 6>, &bwd_taps<3, 7>};

int threads_for(const ConvShape& s, int64_t chunks) {
  const double flops = 2.0 * s.N * s.OH * s.OW * s.KH * s.KW * s.C * s.F;
  return static_cast<int>(std::min<int64_t>(flops < 2.0e6 ? 1 : num_threads(), chunks));
}

}  // namespace

bool conv2d_lanes_fits(const ConvShape& s, bool backward_weights) {
  // C <= 8: the expansion gathers each channel separately; LeNet conv2's backward-data as a conv
  // (C = 16 -> F = 6) measured 3x slower this way than through im2col_gemm (conv1's, C = 6 -> F = 1, 2x faster).
  if (s.F >= kVL || s.C > 8 || s.SW != 1 || s.OW * s.F < kVL) return false;
  if (!backward_weights) return true;
  const int64_t V = s.F / std::gcd<int64_t>(s.F, kVL);
  return V == 1 || V == 3;
}

void conv2d_forward_lanes_avx512(float* y, const float* x, const float* w, const float* b,
                                 const ConvShape& s) {
  const Lanes g = lanes_of(s);
  std::vector<float> wpat(static_cast<size_t>(s.KH * s.KW * s.C * g.V * kVL));
  std::vector<float> bpat(static_cast<size_t>(g.V * kVL), 0.0f);
  weight_patterns(wpat.data(), w, s, g);
  if (b)
    for (int64_t i = 0; i < g.V * kVL; ++i) bpat[i] = b[i % s.F];
  const int64_t R = rows_per_chunk(s, g), per_image = (s.OH + R - 1) / R, chunks = s.N * per_image;
  const int nt = threads_for(s, chunks);
#ifdef NK_OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const int64_t n = ch / per_image, oh0 = (ch % per_image) * R, oh1 = std::min(s.OH, oh0 + R);
    const int64_t HE = (oh1 - 1 - oh0) * s.SH + (s.KH - 1) * s.DH + 1;
    float* xe = scratch(s.C * HE * g.stride);
    expand_rows(xe, x, s, g, n, oh0 * s.SH - s.PT, HE);
    for (int64_t oh = oh0; oh < oh1; oh += 2) {
      const bool two = oh + 1 < oh1;
      float* yr = y + (n * s.OH + oh) * s.OW * s.F;
      const float* xr = xe + (oh - oh0) * s.SH * g.stride;
      for (int64_t v0 = 0; v0 < g.nvec; v0 += 8) {
        const int nv = static_cast<int>(std::min<int64_t>(8, g.nvec - v0));
        const __mmask16 last = v0 + nv == g.nvec ? g.last : static_cast<__mmask16>(0xFFFF);
        (two ? kFwd<2> : kFwd<1>)[nv - 1](yr + v0 * kVL, xr + v0 * kVL, wpat.data(), bpat.data(), s, g,
                                          HE, v0, last);
      }
    }
  }
}

void conv2d_backward_weights_lanes_avx512(float* dw, float* db, const float* dy, const float* x,
                                          const ConvShape& s) {
  if (db) bias_add_backward(db, dy, s.N * s.OH * s.OW, s.F);  // db += column sums of dy (P, F)
  const Lanes g = lanes_of(s);
  const int64_t lanes = s.KH * s.KW * s.C * g.V * kVL;
  const int64_t R = rows_per_chunk(s, g), per_image = (s.OH + R - 1) / R, chunks = s.N * per_image;
  const int nt = threads_for(s, chunks);
  std::vector<float> part(static_cast<size_t>(nt * lanes), 0.0f);  // one lane-partial set per thread
  const int nk_max = g.V == 1 ? 8 : 7;
#ifdef NK_OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
  {
    const int t = nt > 1 ? thread_id() : 0;
    float* acc = part.data() + t * lanes;
    const int64_t per = (chunks + nt - 1) / nt;  // contiguous chunks per thread: a fixed summation order
    for (int64_t ch = t * per; ch < std::min(chunks, (t + 1) * per); ++ch) {
      const int64_t n = ch / per_image, oh0 = (ch % per_image) * R, oh1 = std::min(s.OH, oh0 + R);
      const int64_t HE = (oh1 - 1 - oh0) * s.SH + (s.KH - 1) * s.DH + 1;
      float* xe = scratch(s.C * HE * g.stride);
      expand_rows(xe, x, s, g, n, oh0 * s.SH - s.PT, HE);
      const float* d = dy + (n * s.OH + oh0) * s.OW * s.F;
      for (int64_t kh = 0; kh < s.KH; ++kh)
        for (int64_t c = 0; c < s.C; ++c)
          for (int64_t kw0 = 0; kw0 < s.KW; kw0 += nk_max) {
            const int nk = static_cast<int>(std::min<int64_t>(nk_max, s.KW - kw0));
            (g.V == 1 ? kBwd1 : kBwd3)[nk - 1](acc, xe, d, s, g, HE, oh1 - oh0, kh, c, kw0);
          }
    }
  }
  // fold the lanes onto filters, threads in order: dw[tap, (16 p + j) mod F] += part[t][tap][p][j]
  const int64_t taps = s.KH * s.KW * s.C;
  for (int th = 0; th < nt; ++th)
    for (int64_t tap = 0; tap < taps; ++tap) {
      const float* pt = part.data() + th * lanes + tap * g.V * kVL;
      for (int64_t i = 0; i < g.V * kVL; ++i) dw[tap * s.F + i % s.F] += pt[i];
    }
}

}  // namespace nk
