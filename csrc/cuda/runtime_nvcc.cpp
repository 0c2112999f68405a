// runtime_nvcc.cpp - nk::cuda's host runtime (runtime.h) on a real GPU (linked into neurokern._cuda).
// Every CUDA call is checked and a failure throws std::runtime_error naming the call.
//
// device_alloc goes through a caching allocator: a freed block is kept in a free list keyed by its
// rounded size and handed out again for the next request of that size, because cudaMalloc/cudaFree
// synchronise the device and cost tens of microseconds. Sizes round up to 512 bytes below 1 MiB and to
// 1 MiB above. If cudaMalloc runs out of memory, the cache is released and the call retried once.
#include <cuda_runtime.h>

#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "core/errors.h"
#include "cuda/runtime.h"

namespace nk::cuda {
namespace {

void check(cudaError_t e, const char* call) {
  if (e != cudaSuccess) throw std::runtime_error(nk::msg(call, " failed: ", cudaGetErrorString(e)));
}

size_t rounded(size_t bytes) {
  const size_t small = 512, large = size_t{1} << 20;
  return bytes < large ? (bytes + small - 1) / small * small : (bytes + large - 1) / large * large;
}

struct CachingAllocator {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // rounded size -> cached blocks
  std::unordered_map<void*, size_t> live;                      // pointer -> rounded size

  void* alloc(size_t bytes) {
    size_t size = rounded(bytes);
    std::lock_guard<std::mutex> lock(mu);
    auto& fl = free_blocks[size];
    if (!fl.empty()) {
      void* p = fl.back();
      fl.pop_back();
      live[p] = size;
      return p;
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear the error, give the cache back to the driver, try once more
      release_cache_locked();
      e = cudaMalloc(&p, size);
    }
    if (e != cudaSuccess)
      throw std::runtime_error(nk::msg("cudaMalloc of ", bytes, " bytes failed: ", cudaGetErrorString(e)));
    live[p] = size;
    return p;
  }

  void free(void* p) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = live.find(p);
    if (it == live.end()) return;  // not ours (or freed twice): never throw from a destructor
    free_blocks[it->second].push_back(p);
    live.erase(it);
  }

  void release_cache_locked() {
    for (auto& [size, blocks] : free_blocks)
      for (void* p : blocks) cudaFree(p);
    free_blocks.clear();
  }
};

// Never destroyed: freeing device memory during interpreter shutdown races the CUDA driver's own teardown.
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

}  // namespace

void* device_alloc(size_t bytes) { return bytes ? allocator().alloc(bytes) : nullptr; }
void device_free(void* p) {
  if (p) allocator().free(p);
}

void memcpy_h2d(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (host to device)");
}
void memcpy_d2h(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (device to host)");
}
void memcpy_d2d(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy (device to device)");
}
void memset_zero(void* p, size_t bytes) {
  if (bytes) check(cudaMemset(p, 0, bytes), "cudaMemset");
}
void synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no GPU: report none, leave no sticky error behind
    return 0;
  }
  return n;
}
bool is_emulated() { return false; }

void check_launch(const char* kernel) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(nk::msg("CUDA kernel ", kernel, " failed to launch: ", cudaGetErrorString(e)));
}

}  // namespace nk::cuda
