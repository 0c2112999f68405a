// reduce.h - warp and block reductions shared by the CUDA kernel files (softmax, sum_all, losses,
// batchnorm, ...). Include after "cuda/compat.h".
//
//   warp_sum(v) / warp_max(v)    every lane of a FULL warp gets the reduction of the 32 lanes' v
//   block_sum(v) / block_max(v)  every thread of a 1-d block gets the reduction of all blockDim.x v
//
// Rules (the emulator checks them; a real GPU would hang or return garbage):
//   - blockDim.x must be a multiple of 32 (all masks are the full warp 0xffffffff);
//   - every thread of the block calls block_* (no early return before it), because block_* contain
//     __syncthreads(). Threads with nothing to contribute pass the identity (0 or -INFINITY).
//   - block_* may be called back to back: the leading barrier protects the shared scratch from
//     being overwritten while a slower warp still reads the previous result.
// The reduction order is fixed (xor butterfly inside a warp, then warp 0..31 partials), so the
// result is deterministic for a given launch shape.
#pragma once
#include "cuda/compat.h"

namespace nk::cuda {

constexpr unsigned kFullWarp = 0xffffffffu;

// Butterfly (xor) reduction: after log2(32) = 5 steps every lane holds the total, so no broadcast
// is needed.
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

template <typename T>
__device__ __forceinline__ T warp_max(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    T other = __shfl_xor_sync(kFullWarp, v, offset);
    v = other > v ? other : v;  // NaN in `other` is ignored; callers that need NaN handle it
  }
  return v;
}

// Two-level reduction: each warp reduces in registers, lane 0 of each warp parks its partial in
// shared memory, then every warp reduces the (at most 32) partials itself.
template <typename T>
__device__ __forceinline__ T block_sum(T v) {
  __shared__ T partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = (blockDim.x + 31) / 32;
  v = warp_sum(v);
  __syncthreads();  // a previous block_sum's readers are done with `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < nwarps ? partial[lane] : T(0);
  return warp_sum(v);
}

template <typename T>
__device__ __forceinline__ T block_max(T v) {
  __shared__ T partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = (blockDim.x + 31) / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < nwarps ? partial[lane] : T(-INFINITY);
  return warp_max(v);
}

}  // namespace nk::cuda
