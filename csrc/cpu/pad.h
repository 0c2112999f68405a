// pad.h - ZeroPadding2D over NHWC activations and its backward (a crop).
//
// Size letters: N batch, H x W input, C channels, PT / PB rows added above / below, PL / PR columns
// added left / right; OH = H + PT + PB, OW = W + PL + PR.
//   pad2d_forward   y[n,oh,ow,c] = x[n, oh-PT, ow-PL, c] inside, 0 in the border
//   pad2d_backward  dx[n,h,w,c]  = dy[n, h+PT, w+PL, c]  (the border's gradient is dropped). OVERWRITES dx.
// Pure data movement: each output row is memset / memcpy of contiguous W*C runs, so the plain loop
// is also the fast one (one variant, OpenMP over the N*OH rows).
#pragma once
#include <cstdint>

namespace nk {

struct Pad2dGeom {
  int64_t N, H, W, C;      // unpadded (N, H, W, C)
  int64_t PT, PB, PL, PR;  // >= 0
};

void pad2d_forward(float* y,         // (N, H+PT+PB, W+PL+PR, C)
                   const float* x,   // (N, H, W, C)
                   const Pad2dGeom& g);
void pad2d_backward(float* dx,         // (N, H, W, C)   overwritten
                    const float* dy,   // (N, H+PT+PB, W+PL+PR, C)
                    const Pad2dGeom& g);

}  // namespace nk
