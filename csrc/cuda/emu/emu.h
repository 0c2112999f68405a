// emu.h - the CPU emulator's interface to kernel code (used through cuda/compat.h under NK_EMU).
//
// Every CUDA thread of a block runs as a stackful fiber on the calling OS thread; blocks run one after
// another. __syncthreads and the warp collectives switch back to a per-block scheduler (emu/sched.cpp),
// which releases a barrier only when every live thread waits at it and completes a warp collective only
// when every named lane has arrived, computing each lane's result with the PTX rules. What cannot
// complete is reported as an error (barrier divergence, deadlock), never a hang.
//
// Checking mode (set_check(true)) adds: guard-page + canary allocations and a SIGSEGV handler that turns
// an out-of-bounds access into an error, pointer-argument validation, poisoned (0xFF = NaN) fresh device
// memory and dynamic shared memory, strict barrier sites, and a differential run (forward then reverse
// thread/block order from the same snapshot of device memory; outputs must agree) that exposes a missing
// __syncthreads / __syncwarp or a read of stale shared memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

// CUDA's coordinate types, unsigned like the real ones so wrap-around behaves identically.
struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

namespace nk::emu {

// What the running fiber sees; the scheduler updates it before every switch into a fiber.
struct Exec {
  const uint3* thread_idx = nullptr;
  uint3 block_idx{0, 0, 0};
  dim3 block_dim, grid_dim;
  unsigned char* dyn_smem = nullptr;
  uint64_t float_atomics = 0;  // float/double atomics this launch (their order changes the last bits)
};
extern thread_local Exec g_exec;

enum class BarKind : int { sync, count, all, any };
enum class WarpOp : int { sync, shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, any, all };

// Block barrier: returns the count / and / or of `pred` over the arriving threads (kind sync: 0).
int block_barrier(BarKind kind, int pred, const std::source_location& loc);
// Warp rendezvous: `value` holds up to 8 bytes of the lane's operand; returns the lane's result bytes.
uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int param, int width,
                         const std::source_location& loc);

struct LaunchConfig {
  dim3 grid, block;
  size_t smem = 0;
};
using KernelBody = void (*)(void* closure);
// Runs a whole grid synchronously. Errors are recorded (see take_error), not thrown, like a CUDA launch.
void launch(const LaunchConfig& cfg, KernelBody body, void* closure, const void* const* ptr_args,
            int n_ptr_args);

// The pending launch error ("" if none), cleared by the call.
std::string take_error();

// Modes (process-wide; set from Python through _cuda_emu.emu_set_*).
void set_check(bool on);
bool get_check();
void set_differential(bool on);  // the forward/reverse comparison inside checking mode (default on)
bool get_differential();
void set_schedule(const std::string& order);  // "forward" | "reverse"
std::string get_schedule();
void set_fiber_backend(const std::string& name);  // "asm" (x86-64 only) | "ucontext"
std::string get_fiber_backend();

// Device memory (emu/mem.cpp). Allocations made in checking mode get guard pages and canaries.
void* mem_alloc(size_t bytes);
void mem_free(void* p);
// Throws std::runtime_error naming `call` unless [p, p + bytes) lies inside one live allocation.
void mem_check_range(const void* p, size_t bytes, const char* call);
size_t mem_live_count();

}  // namespace nk::emu
