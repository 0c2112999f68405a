// emu_selftest.h - small kernels that pin down the CPU emulator's CUDA semantics (tests/cuda/test_emulator.py).
// They are ordinary CUDA: the nvcc build contains them too, so the same tests can run on a real GPU.
// All pointers are device pointers; every function launches and checks (throws naming the kernel).
#pragma once
#include <cstdint>

namespace nk::cuda {

// partial[b] = sum of x over block b (block threads, shared-memory tree). sync=false drops the loop's
// __syncthreads: a real race that checking mode must report.
void selftest_block_reduce(float* partial, const float* x, int n, int block, bool sync);
// Every thread i: old[i] = atomicAdd(&counters[0], 1); atomicAdd(&counters[1], vals[i]);
// atomicMax(&counters[2], vals[i]); atomicMin(&counters[3], vals[i]); atomicExch(&counters[4], i);
// atomicAdd(fsum, (float)vals[i]); atomicAdd(dsum, (double)vals[i]); a CAS loop keeps the float max in fmax.
void selftest_atomics(int* counters, int* old, float* fsum, double* dsum, float* fmax, const int* vals, int n,
                      int block);
// One block of `threads`; lane l of each warp computes op(in[t]) (op: 0 shfl_idx, 1 shfl_up, 2 shfl_down,
// 3 shfl_xor, 4 ballot(in[t] != 0), 5 any, 6 all, 7 __syncwarp then 1). Threads whose lane is not in
// `mask` write -1 without calling, unless all_call (then the call itself is the bug under test).
void selftest_warp(int* out, const int* in, int threads, int op, int param, int width, unsigned mask, bool all_call);
// 64-bit values through __shfl_xor_sync: out[t] = in[t ^ lane_mask] (bit patterns preserved).
void selftest_shuffle_double(double* out, const double* in, int threads, int lane_mask);
// out[3b..3b+2] = __syncthreads_count/and/or(pred[t]) of block b; threads with t >= n_live exit first.
void selftest_sync_reductions(int* out, const int* pred, int n, int block, int n_live);
// Broken barrier patterns. variant 0: the two halves of the block wait at two different __syncthreads;
// 1: half at __syncthreads, half at a warp shuffle (a GPU hangs); 2: __syncthreads vs __syncthreads_count.
void selftest_divergence(int* out, int variant, int block);
// Thread 0 of block 0 reads or writes x[index] (index may be out of [0, n)); out gets what it read.
void selftest_oob(float* x, float* out, int64_t index, bool write);
// y = x reversed within each block, through dynamic shared memory of block floats + extra_floats;
// with oob, thread 0 also writes one float just past the dynamic shared memory.
void selftest_dyn_smem_reverse(float* y, const float* x, int n, int block, int extra_floats, bool oob);
// A trivial kernel launched with the given configuration (for launch validation).
void selftest_launch_config(int* out, int gx, int gy, int gz, int bx, int by, int bz, int64_t smem);
// out[global linear thread id] = that id; out2[id] = the same id computed with a different grouping of
// blockIdx/threadIdx/blockDim/gridDim (x fastest, then y, then z).
void selftest_coords(int* out, int* out2, int gx, int gy, int gz, int bx, int by, int bz);
// out[b] = what block b finds in a __shared__ variable the previous block left behind (a bug).
void selftest_stale_shared(int* out, int blocks);
// Launches with a host pointer as a kernel argument (checking mode must reject it).
void selftest_host_pointer(int* device_out);

}  // namespace nk::cuda
