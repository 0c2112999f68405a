// pad.cpp - ZeroPadding2D forward (zero border + copy) and backward (crop). Definitions: cpu/pad.h.
#include "cpu/pad.h"

#include <cstring>

#include "core/parallel.h"

namespace nk {

void pad2d_forward(float* y, const float* x, const Pad2dGeom& g) {
  const int64_t OH = g.H + g.PT + g.PB, OW = g.W + g.PL + g.PR, C = g.C, rows = g.N * OH;
#ifdef NK_OPENMP
#pragma omp parallel for schedule(static) if (rows * OW * C > kParallelGrain)
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / OH, h = r % OH - g.PT;
    float* yr = y + r * OW * C;
    if (h < 0 || h >= g.H) {  // a border row
      std::memset(yr, 0, sizeof(float) * OW * C);
      continue;
    }
    std::memset(yr, 0, sizeof(float) * g.PL * C);
    std::memcpy(yr + g.PL * C, x + (n * g.H + h) * g.W * C, sizeof(float) * g.W * C);
    std::memset(yr + (g.PL + g.W) * C, 0, sizeof(float) * g.PR * C);
  }
}

void pad2d_backward(float* dx, const float* dy, const Pad2dGeom& g) {
  const int64_t OH = g.H + g.PT + g.PB, OW = g.W + g.PL + g.PR, C = g.C, rows = g.N * g.H;
#ifdef NK_OPENMP
#pragma omp parallel for schedule(static) if (rows * g.W * C > kParallelGrain)
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / g.H, h = r % g.H;
    std::memcpy(dx + r * g.W * C, dy + ((n * OH + h + g.PT) * OW + g.PL) * C, sizeof(float) * g.W * C);
  }
}

}  // namespace nk
