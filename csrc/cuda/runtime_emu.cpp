// runtime_emu.cpp - nk::cuda's host runtime (runtime.h) on the CPU emulator: "device" memory is host
// memory from the emulator's allocation registry (emu/mem.cpp), every copy is range-checked against it,
// and launches are synchronous, so a failed kernel is reported by NK_CHECK_LAUNCH right after it.
#include <cstring>
#include <stdexcept>

#include "core/errors.h"
#include "cuda/emu/emu.h"
#include "cuda/runtime.h"

namespace nk::cuda {
namespace {
// A kernel failure nobody checked surfaces at the next runtime call, as CUDA's sticky errors do.
void throw_pending(const char* call) {
  std::string e = emu::take_error();
  if (!e.empty())
    throw std::runtime_error(nk::msg(call, ": an earlier kernel launch failed (emulator): ", e));
}
}  // namespace

void* device_alloc(size_t bytes) { return emu::mem_alloc(bytes); }
void device_free(void* p) { emu::mem_free(p); }

void memcpy_h2d(void* dst, const void* src, size_t bytes) {
  throw_pending("cudaMemcpy");
  emu::mem_check_range(dst, bytes, "cudaMemcpy (host to device, emulated) destination");
  if (bytes) std::memcpy(dst, src, bytes);
}
void memcpy_d2h(void* dst, const void* src, size_t bytes) {
  throw_pending("cudaMemcpy");
  emu::mem_check_range(src, bytes, "cudaMemcpy (device to host, emulated) source");
  if (bytes) std::memcpy(dst, src, bytes);
}
void memcpy_d2d(void* dst, const void* src, size_t bytes) {
  throw_pending("cudaMemcpy");
  emu::mem_check_range(src, bytes, "cudaMemcpy (device to device, emulated) source");
  emu::mem_check_range(dst, bytes, "cudaMemcpy (device to device, emulated) destination");
  if (bytes) std::memmove(dst, src, bytes);
}
void memset_zero(void* p, size_t bytes) {
  throw_pending("cudaMemset");
  emu::mem_check_range(p, bytes, "cudaMemset (emulated)");
  if (bytes) std::memset(p, 0, bytes);
}
void synchronize() { throw_pending("cudaDeviceSynchronize"); }
int device_count() { return 1; }
bool is_emulated() { return true; }

void check_launch(const char* kernel) {
  std::string e = emu::take_error();
  if (!e.empty()) throw std::runtime_error(nk::msg("CUDA kernel ", kernel, " failed (emulator): ", e));
}

}  // namespace nk::cuda
