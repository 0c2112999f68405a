// pad.h - ZeroPadding2D on the GPU (NHWC) and its backward (a crop). Same definitions, size letters
// and argument order as cpu/pad.h (the geometry struct nk::Pad2dGeom is shared):
//   pad2d_forward   y[n,oh,ow,c] = x[n, oh-PT, ow-PL, c] inside, 0 in the border
//   pad2d_backward  dx[n,h,w,c]  = dy[n, h+PT, w+PL, c]. OVERWRITES dx.
// Pointers are device pointers.
#pragma once
#include <cstdint>

#include "cpu/pad.h"

namespace nk::cuda {

void pad2d_forward(float* y,            // (N, H+PT+PB, W+PL+PR, C)
                   const float* x,      // (N, H, W, C)
                   const Pad2dGeom& g);
void pad2d_backward(float* dx,          // (N, H, W, C)   overwritten
                    const float* dy,    // (N, H+PT+PB, W+PL+PR, C)
                    const Pad2dGeom& g);

}  // namespace nk::cuda
