// emu_selftest.cu - kernels that test the CUDA emulator itself (declared in emu_selftest.h).
// Each one isolates a piece of CUDA semantics: barriers, atomics, warp collectives, shared memory,
// launch limits, and the bugs checking mode must catch (races, divergence, out-of-bounds access).
#include "cuda/emu_selftest.h"

#include "cuda/compat.h"

namespace nk::cuda {

// --------------------------------------------------------------------- shared-memory tree reduction
// x: (n,), partial: (gridDim.x,). Block size is a power of two <= 1024.
__global__ void block_reduce_kernel(float* partial, const float* x, int n, int sync) {
  __shared__ float s[1024];
  unsigned t = threadIdx.x;
  unsigned i = blockIdx.x * blockDim.x + t;
  s[t] = i < static_cast<unsigned>(n) ? x[i] : 0.0f;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (t < stride) s[t] += s[t + stride];
    if (sync) __syncthreads();  // without it a thread reads s[t + stride] before its owner wrote it
  }
  if (t == 0) partial[blockIdx.x] = s[0];
}

void selftest_block_reduce(float* partial, const float* x, int n, int block, bool sync) {
  int grid = (n + block - 1) / block;
  NK_LAUNCH(block_reduce_kernel, grid, block, 0, partial, x, n, sync ? 1 : 0);
  NK_CHECK_LAUNCH("block_reduce_kernel");
}

// ------------------------------------------------------------------------------- atomics, contention
__global__ void atomics_kernel(int* counters, int* old, float* fsum, double* dsum, float* fmax, const int* vals,
                               int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int v = vals[i];
  old[i] = atomicAdd(&counters[0], 1);  // the old values are a permutation of 0..n-1
  atomicAdd(&counters[1], v);
  atomicMax(&counters[2], v);
  atomicMin(&counters[3], v);
  atomicExch(&counters[4], i);
  atomicAdd(fsum, static_cast<float>(v));
  atomicAdd(dsum, static_cast<double>(v));
  // float max through atomicCAS on the bit pattern (the usual idiom: there is no float atomicMax)
  int* addr = reinterpret_cast<int*>(fmax);
  int cur = *addr;
  while (__int_as_float(cur) < static_cast<float>(v)) {
    int prev = atomicCAS(addr, cur, __float_as_int(static_cast<float>(v)));
    if (prev == cur) break;
    cur = prev;
  }
}

void selftest_atomics(int* counters, int* old, float* fsum, double* dsum, float* fmax, const int* vals, int n,
                      int block) {
  NK_LAUNCH(atomics_kernel, (n + block - 1) / block, block, 0, counters, old, fsum, dsum, fmax, vals, n);
  NK_CHECK_LAUNCH("atomics_kernel");
}

// --------------------------------------------------------------------------------- warp collectives
__global__ void warp_kernel(int* out, const int* in, int op, int param, int width, unsigned mask, int all_call) {
  unsigned t = threadIdx.x;
  unsigned lane = t % 32;
  int v = in[t];
  if (!all_call && !(mask >> lane & 1)) {
    out[t] = -1;
    return;
  }
  int r = 0;
  switch (op) {
    case 0: r = __shfl_sync(mask, v, param, width); break;
    case 1: r = __shfl_up_sync(mask, v, static_cast<unsigned>(param), width); break;
    case 2: r = __shfl_down_sync(mask, v, static_cast<unsigned>(param), width); break;
    case 3: r = __shfl_xor_sync(mask, v, param, width); break;
    case 4: r = static_cast<int>(__ballot_sync(mask, v != 0)); break;
    case 5: r = __any_sync(mask, v != 0); break;
    case 6: r = __all_sync(mask, v != 0); break;
    default: __syncwarp(mask); r = 1; break;
  }
  out[t] = r;
}

void selftest_warp(int* out, const int* in, int threads, int op, int param, int width, unsigned mask, bool all_call) {
  NK_LAUNCH(warp_kernel, 1, threads, 0, out, in, op, param, width, mask, all_call ? 1 : 0);
  NK_CHECK_LAUNCH("warp_kernel");
}

__global__ void shuffle_double_kernel(double* out, const double* in, int lane_mask) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, in[threadIdx.x], lane_mask);
}

void selftest_shuffle_double(double* out, const double* in, int threads, int lane_mask) {
  NK_LAUNCH(shuffle_double_kernel, 1, threads, 0, out, in, lane_mask);
  NK_CHECK_LAUNCH("shuffle_double_kernel");
}

// ------------------------------------------------------------------ __syncthreads_count / and / or
__global__ void sync_reductions_kernel(int* out, const int* pred, int n, int n_live) {
  unsigned t = threadIdx.x;
  if (static_cast<int>(t) >= n_live) return;  // exited threads neither block nor count
  unsigned i = blockIdx.x * blockDim.x + t;
  int p = i < static_cast<unsigned>(n) ? pred[i] : 0;
  int c = __syncthreads_count(p);
  int a = __syncthreads_and(p);
  int o = __syncthreads_or(p);
  if (t == 0) {
    out[3 * blockIdx.x + 0] = c;
    out[3 * blockIdx.x + 1] = a;
    out[3 * blockIdx.x + 2] = o;
  }
}

void selftest_sync_reductions(int* out, const int* pred, int n, int block, int n_live) {
  NK_LAUNCH(sync_reductions_kernel, (n + block - 1) / block, block, 0, out, pred, n, n_live);
  NK_CHECK_LAUNCH("sync_reductions_kernel");
}

// ------------------------------------------------------------------------ broken barrier patterns
__global__ void divergence_kernel(int* out, int variant) {
  unsigned t = threadIdx.x;
  bool low = t < blockDim.x / 2;
  if (variant == 0) {
    if (low) {
      __syncthreads();
    } else {
      __syncthreads();  // a different barrier: undefined behaviour on a GPU
    }
  } else if (variant == 1) {
    if (low) {
      __syncthreads();
    } else {
      out[t] = __shfl_sync(0xffffffffu, static_cast<int>(t), 0);  // waits for lanes stuck at the barrier
    }
  } else {
    if (low) {
      __syncthreads();
    } else {
      out[t] = __syncthreads_count(1);
    }
  }
  out[t] = 1;
}

void selftest_divergence(int* out, int variant, int block) {
  NK_LAUNCH(divergence_kernel, 1, block, 0, out, variant);
  NK_CHECK_LAUNCH("divergence_kernel");
}

// ---------------------------------------------------------------------------- out-of-bounds access
__global__ void oob_kernel(float* x, float* out, int64_t index, int write) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  if (write)
    x[index] = 42.0f;
  else
    out[0] = x[index];
}

void selftest_oob(float* x, float* out, int64_t index, bool write) {
  NK_LAUNCH(oob_kernel, 1, 32, 0, x, out, index, write ? 1 : 0);
  NK_CHECK_LAUNCH("oob_kernel");
}

// ------------------------------------------------------------------------- dynamic shared memory
// Two typed views of one dynamic buffer: floats for the data, an int flag after them.
__global__ void dyn_smem_reverse_kernel(float* y, const float* x, int n, int extra_floats, int oob) {
  NK_DYN_SMEM(float, buf);
  int* flag = reinterpret_cast<int*>(buf + blockDim.x);
  unsigned t = threadIdx.x;
  unsigned i = blockIdx.x * blockDim.x + t;
  buf[t] = i < static_cast<unsigned>(n) ? x[i] : 0.0f;
  if (t == 0 && extra_floats > 0) *flag = 7;
  __syncthreads();
  unsigned j = blockIdx.x * blockDim.x + (blockDim.x - 1 - t);
  if (j < static_cast<unsigned>(n)) y[j] = buf[t] + (extra_floats > 0 ? static_cast<float>(*flag - 7) : 0.0f);
  if (oob && t == 0) buf[blockDim.x + extra_floats] = 1.0f;  // one float past the end
}

void selftest_dyn_smem_reverse(float* y, const float* x, int n, int block, int extra_floats, bool oob) {
  size_t smem = static_cast<size_t>(block + extra_floats) * sizeof(float);
  NK_LAUNCH(dyn_smem_reverse_kernel, (n + block - 1) / block, block, smem, y, x, n, extra_floats, oob ? 1 : 0);
  NK_CHECK_LAUNCH("dyn_smem_reverse_kernel");
}

// ------------------------------------------------------------------------------- launch and indexing
__global__ void launch_config_kernel(int* out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) out[0] = 1;
}

void selftest_launch_config(int* out, int gx, int gy, int gz, int bx, int by, int bz, int64_t smem) {
  NK_LAUNCH(launch_config_kernel, dim3(gx, gy, gz), dim3(bx, by, bz), static_cast<size_t>(smem), out);
  NK_CHECK_LAUNCH("launch_config_kernel");
}

__global__ void coords_kernel(int* out, int* out2) {
  unsigned block_threads = blockDim.x * blockDim.y * blockDim.z;
  unsigned tid = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  unsigned bid = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  unsigned id = bid * block_threads + tid;
  out[id] = static_cast<int>(id);
  out2[id] = static_cast<int>(((blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x) * block_threads +
                              threadIdx.z * blockDim.x * blockDim.y + threadIdx.y * blockDim.x + threadIdx.x);
}

void selftest_coords(int* out, int* out2, int gx, int gy, int gz, int bx, int by, int bz) {
  NK_LAUNCH(coords_kernel, dim3(gx, gy, gz), dim3(bx, by, bz), 0, out, out2);
  NK_CHECK_LAUNCH("coords_kernel");
}

// Reads a __shared__ value written by an earlier block: works by accident when blocks run in order.
__global__ void stale_shared_kernel(int* out) {
  __shared__ int last_block;
  if (threadIdx.x == 0) {
    out[blockIdx.x] = blockIdx.x == 0 ? -1 : last_block;
    last_block = static_cast<int>(blockIdx.x);
  }
}

void selftest_stale_shared(int* out, int blocks) {
  NK_LAUNCH(stale_shared_kernel, blocks, 32, 0, out);
  NK_CHECK_LAUNCH("stale_shared_kernel");
}

__global__ void host_pointer_kernel(int* out, const int* in) {
  if (threadIdx.x == 0) out[0] = in[0];
}

void selftest_host_pointer(int* device_out) {
  static const int host_value[1] = {5};
  NK_LAUNCH(host_pointer_kernel, 1, 32, 0, device_out, host_value);
  NK_CHECK_LAUNCH("host_pointer_kernel");
}

}  // namespace nk::cuda
