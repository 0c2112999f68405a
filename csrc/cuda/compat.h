// compat.h - lets one kernel source (csrc/cuda/*.cu) compile two ways:
//   nvcc            -> real CUDA (neurokern._cuda);
//   g++ -DNK_EMU    -> the CPU emulator (neurokern._cuda_emu, emu/emu.h), for tests without a GPU.
//
// Kernel files use plain CUDA plus three macros that differ between the two builds:
//   NK_DYN_SMEM(T, name);                     dynamic shared memory as `T* name` (inside the kernel body)
//   NK_LAUNCH(kernel, grid, block, smem, args...);   never write <<< >>> yourself: g++ cannot parse it
//   NK_CHECK_LAUNCH("kernel_name");           throws a neurokern error naming the kernel if it failed
// Write `__shared__ T a[N];` (static size, no `static` in front), never `extern __shared__`.
// __CUDA_ARCH__ is never defined by the emulator: branch on NK_EMU if a kernel must.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/errors.h"
#include "cuda/runtime.h"

#define NK_CHECK_LAUNCH(name) ::nk::cuda::check_launch(name)

#if defined(__CUDACC__)
// ------------------------------------------------------------------------------------------------ nvcc
#include <cuda_runtime.h>

#define NK_DYN_SMEM(T, name)                                   \
  extern __shared__ __align__(16) unsigned char nk_dyn_smem_[]; \
  T* name = reinterpret_cast<T*>(nk_dyn_smem_)

namespace nk::cuda {
// The only <<< >>> in the project. Arguments convert to the kernel's parameter types as in a direct call.
template <typename... P, typename... A>
inline void launch_kernel(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "NK_LAUNCH: wrong number of kernel arguments");
  kernel<<<grid, block, smem>>>(static_cast<P>(args)...);
}
}  // namespace nk::cuda
// Variadic so that commas inside `kernel<float, 4>` survive the preprocessor.
#define NK_LAUNCH(...) ::nk::cuda::launch_kernel(__VA_ARGS__)

#elif defined(NK_EMU)
// ------------------------------------------------------------------------------------ CPU emulator
#include <math.h>

#include <atomic>
#include <cstring>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda/emu/emu.h"

#define __global__
#define __device__
#define __host__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __constant__
// One instance per kernel, reused by every block: correct because blocks never overlap in time.
#define __shared__ static
#define __align__(n) alignas(n)

namespace nk::emu {
inline const uint3& block_idx() { return g_exec.block_idx; }
inline const dim3& block_dim() { return g_exec.block_dim; }
inline const dim3& grid_dim() { return g_exec.grid_dim; }
}  // namespace nk::emu
#define threadIdx (*::nk::emu::g_exec.thread_idx)
#define blockIdx (::nk::emu::block_idx())
#define blockDim (::nk::emu::block_dim())
#define gridDim (::nk::emu::grid_dim())
constexpr int warpSize = 32;

#define NK_DYN_SMEM(T, name) T* name = reinterpret_cast<T*>(::nk::emu::g_exec.dyn_smem)

// ---- block barriers (the default argument records the call site: divergence reports name it)
using nk_src_loc = std::source_location;
inline void __syncthreads(nk_src_loc loc = nk_src_loc::current()) {
  ::nk::emu::block_barrier(::nk::emu::BarKind::sync, 0, loc);
}
inline int __syncthreads_count(int pred, nk_src_loc loc = nk_src_loc::current()) {
  return ::nk::emu::block_barrier(::nk::emu::BarKind::count, pred != 0, loc);
}
inline int __syncthreads_and(int pred, nk_src_loc loc = nk_src_loc::current()) {
  return ::nk::emu::block_barrier(::nk::emu::BarKind::all, pred != 0, loc);
}
inline int __syncthreads_or(int pred, nk_src_loc loc = nk_src_loc::current()) {
  return ::nk::emu::block_barrier(::nk::emu::BarKind::any, pred != 0, loc);
}
inline void __threadfence() {}        // blocks run one after another: memory is always coherent
inline void __threadfence_block() {}

// ---- warp collectives: a rendezvous of the lanes named in `mask` (emu/sched.cpp computes results)
namespace nk::emu {
template <typename T>
inline T warp_shuffle(WarpOp op, unsigned mask, T var, int param, int width, const nk_src_loc& loc) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = warp_collective(op, mask, bits, param, width, loc);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
}  // namespace nk::emu
inline void __syncwarp(unsigned mask = 0xffffffffu, nk_src_loc loc = nk_src_loc::current()) {
  ::nk::emu::warp_collective(::nk::emu::WarpOp::sync, mask, 0, 0, 32, loc);
}
template <typename T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize, nk_src_loc loc = nk_src_loc::current()) {
  return ::nk::emu::warp_shuffle(::nk::emu::WarpOp::shfl_idx, mask, var, src_lane, width, loc);
}
template <typename T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize, nk_src_loc loc = nk_src_loc::current()) {
  return ::nk::emu::warp_shuffle(::nk::emu::WarpOp::shfl_up, mask, var, static_cast<int>(delta), width, loc);
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize, nk_src_loc loc = nk_src_loc::current()) {
  return ::nk::emu::warp_shuffle(::nk::emu::WarpOp::shfl_down, mask, var, static_cast<int>(delta), width, loc);
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize, nk_src_loc loc = nk_src_loc::current()) {
  return ::nk::emu::warp_shuffle(::nk::emu::WarpOp::shfl_xor, mask, var, lane_mask, width, loc);
}
inline unsigned __ballot_sync(unsigned mask, int pred, nk_src_loc loc = nk_src_loc::current()) {
  return static_cast<unsigned>(::nk::emu::warp_collective(::nk::emu::WarpOp::ballot, mask, pred != 0, 0, 32, loc));
}
inline int __any_sync(unsigned mask, int pred, nk_src_loc loc = nk_src_loc::current()) {
  return static_cast<int>(::nk::emu::warp_collective(::nk::emu::WarpOp::any, mask, pred != 0, 0, 32, loc));
}
inline int __all_sync(unsigned mask, int pred, nk_src_loc loc = nk_src_loc::current()) {
  return static_cast<int>(::nk::emu::warp_collective(::nk::emu::WarpOp::all, mask, pred != 0, 0, 32, loc));
}

// ---- atomics: real atomic read-modify-writes (std::atomic_ref), returning the old value as CUDA does
namespace nk::emu {
template <typename T>
inline T atomic_add(T* p, T v) {
  if constexpr (std::is_floating_point_v<T>) ++g_exec.float_atomics;
  return std::atomic_ref<T>(*p).fetch_add(v, std::memory_order_relaxed);
}
template <typename T, typename F>
inline T atomic_update(T* p, F f) {  // CAS loop for the operations atomic_ref lacks
  std::atomic_ref<T> a(*p);
  T old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, f(old), std::memory_order_relaxed)) {}
  return old;
}
}  // namespace nk::emu
inline float atomicAdd(float* p, float v) { return ::nk::emu::atomic_add(p, v); }
inline double atomicAdd(double* p, double v) { return ::nk::emu::atomic_add(p, v); }
inline int atomicAdd(int* p, int v) { return ::nk::emu::atomic_add(p, v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return ::nk::emu::atomic_add(p, v); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return ::nk::emu::atomic_add(p, v); }
inline int atomicSub(int* p, int v) { return ::nk::emu::atomic_add(p, -v); }
inline unsigned atomicSub(unsigned* p, unsigned v) { return ::nk::emu::atomic_add(p, 0u - v); }
#define NK_EMU_ATOMIC_MINMAX(T)                                                                        \
  inline T atomicMax(T* p, T v) { return ::nk::emu::atomic_update(p, [v](T o) { return o < v ? v : o; }); } \
  inline T atomicMin(T* p, T v) { return ::nk::emu::atomic_update(p, [v](T o) { return v < o ? v : o; }); }
NK_EMU_ATOMIC_MINMAX(int)
NK_EMU_ATOMIC_MINMAX(unsigned)
NK_EMU_ATOMIC_MINMAX(long long)
NK_EMU_ATOMIC_MINMAX(unsigned long long)
#undef NK_EMU_ATOMIC_MINMAX
#define NK_EMU_ATOMIC_BITS(T)                                                                            \
  inline T atomicAnd(T* p, T v) { return std::atomic_ref<T>(*p).fetch_and(v, std::memory_order_relaxed); } \
  inline T atomicOr(T* p, T v) { return std::atomic_ref<T>(*p).fetch_or(v, std::memory_order_relaxed); }   \
  inline T atomicXor(T* p, T v) { return std::atomic_ref<T>(*p).fetch_xor(v, std::memory_order_relaxed); }
NK_EMU_ATOMIC_BITS(int)
NK_EMU_ATOMIC_BITS(unsigned)
NK_EMU_ATOMIC_BITS(unsigned long long)
#undef NK_EMU_ATOMIC_BITS
template <typename T>
  requires(std::is_same_v<T, int> || std::is_same_v<T, unsigned> || std::is_same_v<T, unsigned long long> ||
           std::is_same_v<T, float>)
inline T atomicExch(T* p, T v) { return std::atomic_ref<T>(*p).exchange(v, std::memory_order_relaxed); }
template <typename T>
  requires(std::is_same_v<T, int> || std::is_same_v<T, unsigned> || std::is_same_v<T, unsigned long long> ||
           std::is_same_v<T, unsigned short>)
inline T atomicCAS(T* p, T compare, T v) {
  std::atomic_ref<T>(*p).compare_exchange_strong(compare, v, std::memory_order_relaxed);
  return compare;  // on failure compare_exchange stores the current value: CUDA returns the old value either way
}
inline unsigned atomicInc(unsigned* p, unsigned limit) {
  return ::nk::emu::atomic_update(p, [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned limit) {
  return ::nk::emu::atomic_update(p, [limit](unsigned o) { return (o == 0 || o > limit) ? limit : o - 1; });
}

// ---- math intrinsics (the fast-math variants are the accurate libm functions here: test with tolerances)
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return exp10f(x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __tanhf(float x) { return tanhf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
inline int __float2int_rn(float x) { return static_cast<int>(nearbyintf(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(floorf(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(ceilf(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline unsigned __float_as_uint(float x) { unsigned i; std::memcpy(&i, &x, 4); return i; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, 4); return x; }
inline float __uint_as_float(unsigned i) { float x; std::memcpy(&x, &i, 4); return x; }
inline long long __double_as_longlong(double x) { long long i; std::memcpy(&i, &x, 8); return i; }
inline double __longlong_as_double(long long i) { double x; std::memcpy(&x, &i, 8); return x; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  return __builtin_bswap32(x);
}
template <typename T>
inline T __ldg(const T* p) { return *p; }
// CUDA's device min/max overloads (global, so they never clash with std::min/std::max).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a < b ? b : a; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a < b ? b : a; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a < b ? b : a; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a < b ? b : a; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a < b ? b : a; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// ---- vector types (same size and alignment as CUDA's, so float4 loads of 16-byte aligned data work)
#define NK_EMU_VEC2(T, name, al) struct alignas(al) name { T x, y; }; \
  inline name make_##name(T x, T y) { return name{x, y}; }
#define NK_EMU_VEC3(T, name) struct name { T x, y, z; }; \
  inline name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define NK_EMU_VEC4(T, name, al) struct alignas(al) name { T x, y, z, w; }; \
  inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }
NK_EMU_VEC2(float, float2, 8)
NK_EMU_VEC3(float, float3)
NK_EMU_VEC4(float, float4, 16)
NK_EMU_VEC2(int, int2, 8)
NK_EMU_VEC3(int, int3)
NK_EMU_VEC4(int, int4, 16)
NK_EMU_VEC2(unsigned, uint2, 8)
NK_EMU_VEC4(unsigned, uint4, 16)
NK_EMU_VEC2(double, double2, 16)
NK_EMU_VEC2(long long, longlong2, 16)
#undef NK_EMU_VEC2
#undef NK_EMU_VEC3
#undef NK_EMU_VEC4
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return uint3{x, y, z}; }

// ---- launch: arguments are converted to the kernel's parameter types once, by value, as in CUDA
namespace nk::cuda {
namespace detail {
template <typename T>
inline void collect_pointer(const void** out, int& n, const T& v) {
  if constexpr (std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>) out[n++] = v;
}
}  // namespace detail
template <typename... P, typename... A>
inline void launch_kernel(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "NK_LAUNCH: wrong number of kernel arguments");
  using Params = std::tuple<std::decay_t<P>...>;
  Params params(static_cast<std::decay_t<P>>(args)...);
  const void* ptrs[sizeof...(P) + 1];
  int n_ptrs = 0;
  std::apply([&](const auto&... p) { (detail::collect_pointer(ptrs, n_ptrs, p), ...); }, params);
  struct Closure {
    void (*kernel)(P...);
    Params* params;
  } closure{kernel, &params};
  ::nk::emu::launch({grid, block, smem},
                    [](void* c) {
                      auto* cl = static_cast<Closure*>(c);
                      std::apply(cl->kernel, *cl->params);
                    },
                    &closure, ptrs, n_ptrs);
}
}  // namespace nk::cuda
#define NK_LAUNCH(...) ::nk::cuda::launch_kernel(__VA_ARGS__)

#else
#error "cuda/compat.h is for kernel files: compile them with nvcc or with -DNK_EMU (the CPU emulator)"
#endif
