// runtime.h - the host side of the CUDA backend, one API for both builds:
//   runtime_nvcc.cpp  real CUDA: cudaMalloc through a caching allocator, every call checked;
//   runtime_emu.cpp   the CPU emulator: host memory tracked by the emulator's allocation registry.
// Every failure throws std::runtime_error (Python RuntimeError) naming the CUDA call, or the kernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>

namespace nk::cuda {

void* device_alloc(size_t bytes);  // nullptr for 0 bytes; throws naming cudaMalloc on failure
void device_free(void* p);         // returns the block to the cache; nullptr is ignored
void memcpy_h2d(void* dst, const void* src, size_t bytes);
void memcpy_d2h(void* dst, const void* src, size_t bytes);
void memcpy_d2d(void* dst, const void* src, size_t bytes);
void memset_zero(void* p, size_t bytes);
void synchronize();
int device_count();  // 0 when there is no usable GPU (never throws)
bool is_emulated();
// Throws naming `kernel` if the last launch failed (NK_CHECK_LAUNCH in cuda/compat.h).
void check_launch(const char* kernel);

// Blocks of `threads` for a grid-stride loop over n elements: enough to cover n, at least 1 (a launch
// over nothing stays a valid launch whose threads do nothing), at most 4096 (the loop covers the rest).
inline int grid_stride_blocks(int64_t n, int threads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<int>(b < 1 ? 1 : (b > 4096 ? 4096 : b));
}

// Owning handle for a device allocation (scratch space inside host-side kernel wrappers).
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t bytes) : ptr_(device_alloc(bytes)), bytes_(bytes) {}
  ~Buffer() { device_free(ptr_); }
  Buffer(Buffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* get() const { return ptr_; }
  template <typename T> T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace nk::cuda
