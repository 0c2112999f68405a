// sched.cpp - fibers, the per-block scheduler and the grid launch of the CPU emulator (see emu.h).
//
// A CUDA thread is a fiber with its own stack. The scheduler (running on the caller's stack) sweeps the
// block's threads in order (forward or reverse) and resumes every READY one; a thread runs until it
// reaches a sync point or returns. After a sweep:
//   - a warp collective completes when every lane named in its mask has arrived (exited lanes count as
//     arrived); results follow the PTX shfl/vote rules; those lanes become READY;
//   - otherwise, if every live thread waits at a block barrier, the barrier is released (exited threads
//     count as arrived, as PTX `exit` specifies) after checking that all wait at the same kind of barrier
//     (and, in checking mode, at the same call site);
//   - otherwise nothing can ever run again: a deadlock, reported with every thread's state, not a hang.
// A finished thread's stack goes straight back to the pool, so kernels without barriers reuse one stack.
//
// Context switch: a 20-instruction x86-64 switch (callee-saved registers, MXCSR, x87 control word) or
// glibc ucontext (portable; ~15x slower: swapcontext makes a sigprocmask syscall). Chosen at run time.
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/emu/emu.h"
#include "cuda/emu/internal.h"

#if defined(__x86_64__) && !defined(NK_EMU_UCONTEXT_ONLY)
#define NK_EMU_HAVE_ASM 1
extern "C" void nk_emu_switch(void** save_sp, void* to_sp);
extern "C" void nk_emu_trampoline();
// nk_emu_switch(save_sp, to_sp): push the callee-saved state on the current stack, store the stack
// pointer in *save_sp, load to_sp and pop the state saved there. A new fiber's stack is pre-filled so
// that the final `ret` lands in nk_emu_trampoline with r12 = argument and r13 = entry function.
asm(R"(
  .text
  .globl nk_emu_switch
  .hidden nk_emu_switch
  .type nk_emu_switch, @function
nk_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size nk_emu_switch, .-nk_emu_switch

  .globl nk_emu_trampoline
  .hidden nk_emu_trampoline
  .type nk_emu_trampoline, @function
nk_emu_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size nk_emu_trampoline, .-nk_emu_trampoline
)");
#else
#define NK_EMU_HAVE_ASM 0
#endif

namespace nk::emu {

thread_local Exec g_exec;

namespace {

std::atomic<bool> g_check{false};
std::atomic<bool> g_differential{true};
std::atomic<bool> g_reverse{false};
std::atomic<bool> g_use_asm{NK_EMU_HAVE_ASM != 0};

enum class St : unsigned char { ready, at_bar, at_warp, done };

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

size_t stack_bytes() {
  static const size_t b = [] {
    const char* env = std::getenv("NK_EMU_STACK_KB");
    long kb = env ? std::atol(env) : 0;
    return static_cast<size_t>(kb >= 16 ? kb : 64) * 1024;
  }();
  return b;
}

// A fiber stack: one PROT_NONE guard page below `bytes` of usable stack (MAP_NORESERVE: only touched
// pages cost memory). Reused across threads, blocks and launches.
struct Stack {
  unsigned char* map = nullptr;  // guard page starts here
  size_t bytes = 0;
  size_t color = 0;    // bytes left unused at the top, different per stack (see get_stack)
  void* sp = nullptr;  // asm backend: saved stack pointer
  ucontext_t uc;       // ucontext backend: saved context
};

struct Thread {
  uint3 tid;
  unsigned linear = 0;
  St st = St::ready;
  Stack* stack = nullptr;
  // The sync point the thread waits at.
  std::source_location site;
  BarKind bar = BarKind::sync;
  WarpOp wop = WarpOp::sync;
  unsigned mask = 0;
  int width = 32, param = 0;
  uint64_t val = 0, res = 0;
};

struct Runner {
  std::vector<Thread> th;
  unsigned n = 0;
  std::vector<Stack*> free_stacks, all_stacks;
  void* sched_sp = nullptr;
  ucontext_t sched_uc;
  ucontext_t uc_template;
  bool have_template = false;
  Thread* cur = nullptr;
  bool use_asm = true;
  bool in_fiber = false;
  KernelBody body = nullptr;
  void* closure = nullptr;
  std::string error;  // first failure, pending until take_error()
  bool failed = false;
  // Set by the SIGSEGV handler (checking mode) before it jumps back to the scheduler.
  volatile sig_atomic_t faulted = 0;
  const void* fault_addr = nullptr;
  // Dynamic shared memory of the current launch.
  std::vector<unsigned char> smem_heap;
  unsigned char* smem_map = nullptr;
  size_t smem_map_len = 0;
  size_t smem_bytes = 0;
};

thread_local Runner* t_runner = nullptr;

Runner& runner() {
  if (!t_runner) t_runner = new Runner();  // one per OS thread, kept for the life of the process
  return *t_runner;
}

std::string coords(const uint3& v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}
std::string site_str(const std::source_location& s) {
  const char* f = s.file_name();
  const char* slash = std::strrchr(f, '/');
  return std::string(slash ? slash + 1 : f) + ":" + std::to_string(s.line()) + ":" + std::to_string(s.column());
}
bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() && std::strcmp(a.file_name(), b.file_name()) == 0;
}

void fail(Runner& r, const std::string& what, const Thread* t) {
  if (r.failed) return;
  r.failed = true;
  std::string where = "block " + coords(g_exec.block_idx);
  if (t) where += " thread " + coords(t->tid);
  if (r.error.empty()) r.error = where + ": " + what;
}

// ---------------------------------------------------------------------------------------- fibers
Stack* get_stack(Runner& r) {
  if (!r.free_stacks.empty()) {
    Stack* s = r.free_stacks.back();
    r.free_stacks.pop_back();
    return s;
  }
  size_t bytes = stack_bytes(), guard = page_size();
  void* m = mmap(nullptr, guard + bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) throw std::runtime_error("CUDA emulator: cannot map a fiber stack (out of memory)");
  mprotect(m, guard, PROT_NONE);
  Stack* s = new Stack();
  s->map = static_cast<unsigned char*>(m);
  s->bytes = bytes;
  // Stack tops at the same page offset would all map to the same cache sets, and a barrier touches
  // every thread's top frame: stagger them by a cache line per stack (measured 10x faster barriers).
  s->color = (r.all_stacks.size() % 64) * 64;
  r.all_stacks.push_back(s);
  return s;
}

void release_stack(Runner& r, Thread& t) {
  if (t.stack) r.free_stacks.push_back(t.stack);
  t.stack = nullptr;
}

// Back to the scheduler, from a fiber (or from the SIGSEGV handler running on its behalf).
void yield(Runner& r) {
  Stack* s = r.cur->stack;
#if NK_EMU_HAVE_ASM
  if (r.use_asm) {
    nk_emu_switch(&s->sp, r.sched_sp);
    return;
  }
#endif
  swapcontext(&s->uc, &r.sched_uc);
}

[[noreturn]] void fiber_main(void* arg) {
  Runner& r = *static_cast<Runner*>(arg);
  try {
    r.body(r.closure);
  } catch (const std::exception& e) {
    fail(r, std::string("exception in kernel: ") + e.what(), r.cur);
  } catch (...) {
    fail(r, "unknown exception in kernel", r.cur);
  }
  r.cur->st = St::done;
  yield(r);
  __builtin_trap();  // a finished fiber is never resumed
}

void fiber_main_uc() { fiber_main(t_runner); }

void start_fiber(Runner& r, Thread& t) {
  Stack* s = get_stack(r);
  t.stack = s;
  unsigned char* lo = s->map + page_size();
#if NK_EMU_HAVE_ASM
  if (r.use_asm) {
    // Frame popped by nk_emu_switch: [mxcsr|fpucw][r15][r14][r13][r12][rbx][rbp][ret], then 16 bytes of
    // padding so that rsp is 16-byte aligned when the trampoline calls the entry (SysV ABI).
    uintptr_t top = reinterpret_cast<uintptr_t>(lo + s->bytes - s->color) & ~uintptr_t{15};
    void** f = reinterpret_cast<void**>(top - 80);
    uint32_t ctl[2];
    asm volatile("stmxcsr %0" : "=m"(ctl[0]));
    asm volatile("fnstcw %0" : "=m"(ctl[1]));
    std::memcpy(&f[0], ctl, 8);
    f[1] = f[2] = nullptr;                                         // r15, r14
    f[3] = reinterpret_cast<void*>(&fiber_main);                  // r13: entry
    f[4] = &r;                                                     // r12: argument
    f[5] = f[6] = nullptr;                                         // rbx, rbp
    f[7] = reinterpret_cast<void*>(&nk_emu_trampoline);           // return address
    s->sp = f;
    return;
  }
#endif
  if (!r.have_template) {  // one getcontext per OS thread; later contexts are copies (no syscall)
    getcontext(&r.uc_template);
    r.have_template = true;
  }
  s->uc = r.uc_template;
#if defined(__x86_64__) && defined(__GLIBC__)
  s->uc.uc_mcontext.fpregs = &s->uc.__fpregs_mem;  // the copy must point at its own FP save area
#endif
  s->uc.uc_stack.ss_sp = lo;
  s->uc.uc_stack.ss_size = s->bytes - s->color;
  s->uc.uc_link = nullptr;
  makecontext(&s->uc, &fiber_main_uc, 0);
}

void resume(Runner& r, Thread& t) {
  r.cur = &t;
  g_exec.thread_idx = &t.tid;
  if (!t.stack) start_fiber(r, t);
  r.in_fiber = true;
#if NK_EMU_HAVE_ASM
  if (r.use_asm)
    nk_emu_switch(&r.sched_sp, t.stack->sp);
  else
#endif
    swapcontext(&r.sched_uc, &t.stack->uc);
  r.in_fiber = false;
  if (r.faulted) {
    r.faulted = 0;
    std::string what = detail::describe_address(r.fault_addr);
    const unsigned char* a = static_cast<const unsigned char*>(r.fault_addr);
    if (what.empty() && r.smem_map && a >= r.smem_map + r.smem_map_len - page_size() &&
        a < r.smem_map + r.smem_map_len)
      what = "past the end of the " + std::to_string(r.smem_bytes) + "-byte dynamic shared memory";
    if (what.empty() && a >= t.stack->map && a < t.stack->map + page_size())
      what = "fiber stack overflow: deep recursion or a large local array (raise NK_EMU_STACK_KB, now " +
             std::to_string(stack_bytes() / 1024) + ")";
    std::ostringstream os;
    os << "out-of-bounds memory access at " << r.fault_addr << (what.empty() ? "" : ": ") << what;
    fail(r, os.str(), &t);
    t.st = St::done;
  }
  if (t.st == St::done) release_stack(r, t);
}

// -------------------------------------------------------------------------- fiber-side sync points
Runner& fiber_runner(const char* what) {
  Runner* r = t_runner;
  if (!r || !r->in_fiber)
    throw std::runtime_error(std::string(what) + " called outside a kernel launched with NK_LAUNCH");
  return *r;
}

[[noreturn]] void fail_and_stop(Runner& r, const std::string& what) {
  fail(r, what, r.cur);
  r.cur->st = St::done;
  yield(r);
  __builtin_trap();
}

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync: return "__syncwarp";
    case WarpOp::shfl_idx: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
    case WarpOp::any: return "__any_sync";
    case WarpOp::all: return "__all_sync";
  }
  return "?";
}
const char* bar_name(BarKind k) {
  switch (k) {
    case BarKind::sync: return "__syncthreads";
    case BarKind::count: return "__syncthreads_count";
    case BarKind::all: return "__syncthreads_and";
    case BarKind::any: return "__syncthreads_or";
  }
  return "?";
}

// ------------------------------------------------------------------------------ scheduler side
std::string hex(unsigned v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

// Completes each warp collective whose named lanes have all arrived. Returns whether any lane was released.
bool complete_warps(Runner& r) {
  bool released = false;
  for (unsigned base = 0; base < r.n && !r.failed; base += 32) {
    unsigned nl = std::min(32u, r.n - base);
    unsigned exist = nl == 32 ? ~0u : (1u << nl) - 1;
    unsigned waiting = 0;
    for (unsigned l = 0; l < nl; ++l)
      if (r.th[base + l].st == St::at_warp) waiting |= 1u << l;
    while (waiting && !r.failed) {
      const Thread& lead = r.th[base + __builtin_ctz(waiting)];
      unsigned mask = lead.mask;
      WarpOp op = lead.wop;
      unsigned group = 0, named = mask & exist;
      bool all_arrived = true;
      for (unsigned m = named; m; m &= m - 1) {
        unsigned l = __builtin_ctz(m);
        const Thread& q = r.th[base + l];
        if (q.st == St::done) continue;  // exited lanes do not hold a collective up
        if (q.st == St::at_warp && q.mask == mask && q.wop == op)
          group |= 1u << l;
        else
          all_arrived = false;
      }
      waiting &= ~(group | (1u << __builtin_ctz(waiting)));
      if (!all_arrived) continue;

      unsigned ballot = 0;
      for (unsigned m = group; m; m &= m - 1)
        if (r.th[base + __builtin_ctz(m)].val) ballot |= 1u << __builtin_ctz(m);
      for (unsigned m = group; m; m &= m - 1) {
        unsigned l = __builtin_ctz(m);
        Thread& q = r.th[base + l];
        switch (op) {
          case WarpOp::sync: q.res = 0; break;
          case WarpOp::ballot: q.res = ballot; break;
          case WarpOp::any: q.res = ballot != 0; break;
          case WarpOp::all: q.res = ballot == group; break;
          default: {
            if (q.width != lead.width) {
              fail(r, std::string(warp_op_name(op)) + " with different widths in one warp (" +
                          std::to_string(lead.width) + " vs " + std::to_string(q.width) + ") at " + site_str(q.site), &q);
              return released;
            }
            // PTX shfl.sync: lanes are grouped in segments of `width`; up/down that leave the segment
            // return the caller's own value; xor may read an EARLIER segment, only a later one gives the
            // own value (CUDA Programming Guide, __shfl_xor_sync; PTX shfl.bfly checks j <= maxLane only).
            int w = q.width, seg = static_cast<int>(l) & ~(w - 1), last = seg + w - 1;
            long long src = l;
            if (op == WarpOp::shfl_idx) src = seg + (q.param & (w - 1));
            if (op == WarpOp::shfl_up) src = static_cast<long long>(l) - static_cast<unsigned>(q.param);
            if (op == WarpOp::shfl_down) src = static_cast<long long>(l) + static_cast<unsigned>(q.param);
            if (op == WarpOp::shfl_xor) src = static_cast<long long>(l ^ static_cast<unsigned>(q.param));
            if (src > last || (op != WarpOp::shfl_xor && src < seg)) src = l;
            if (!(group >> src & 1)) {
              const char* why = src >= static_cast<long long>(nl) ? "does not exist (partial last warp)"
                                : !(mask >> src & 1)            ? "is not named in the mask"
                                                                : "has exited";
              fail(r, std::string(warp_op_name(op)) + " at " + site_str(q.site) + " (mask " + hex(mask) +
                          "): lane " + std::to_string(l) + " reads lane " + std::to_string(src) + ", which " + why +
                          " (the result would be undefined on a GPU)", &q);
              return released;
            }
            q.res = r.th[base + src].val;
          }
        }
      }
      for (unsigned m = group; m; m &= m - 1) r.th[base + __builtin_ctz(m)].st = St::ready;
      released = true;
    }
  }
  return released;
}

// Every live thread waits at a block barrier: check it is one barrier, compute count/and/or, release.
void release_barrier(Runner& r) {
  const Thread* first = nullptr;
  int count = 0, arrived = 0;
  for (const Thread& t : r.th) {
    if (t.st != St::at_bar) continue;
    if (!first) first = &t;
    bool same_kind = t.bar == first->bar;
    if (!same_kind || (g_check && !same_site(t.site, first->site))) {
      fail(r, "barrier divergence: thread " + coords(first->tid) + " waits at " + bar_name(first->bar) + " " +
                  site_str(first->site) + " while thread " + coords(t.tid) + " waits at " + bar_name(t.bar) +
                  " " + site_str(t.site) + " (every thread of a block must reach the same __syncthreads)",
           nullptr);
      return;
    }
    count += static_cast<int>(t.val);
    ++arrived;
  }
  int res = 0;
  if (first->bar == BarKind::count) res = count;
  if (first->bar == BarKind::all) res = count == arrived;
  if (first->bar == BarKind::any) res = count > 0;
  for (Thread& t : r.th)
    if (t.st == St::at_bar) {
      t.res = res;
      t.st = St::ready;
    }
}

void report_deadlock(Runner& r) {
  std::ostringstream os;
  os << "deadlock: no thread can continue (a GPU would hang).";
  unsigned shown = 0, exited = 0;
  for (const Thread& t : r.th) {
    if (t.st == St::done) {
      ++exited;
      continue;
    }
    if (shown++ >= 6) continue;
    os << " thread " << coords(t.tid) << " (lane " << t.linear % 32 << ") waits at ";
    if (t.st == St::at_bar)
      os << bar_name(t.bar) << " " << site_str(t.site) << ";";
    else
      os << warp_op_name(t.wop) << "(mask " << hex(t.mask) << ") " << site_str(t.site) << ";";
  }
  if (shown > 6) os << " ... (" << shown - 6 << " more);";
  if (exited) os << " " << exited << " thread(s) exited.";
  os << " Lanes named in a warp collective's mask must all reach it; all threads must reach a __syncthreads.";
  fail(r, os.str(), nullptr);
}

void run_block(Runner& r, bool reverse) {
  for (Thread& t : r.th) {
    t.st = St::ready;
    t.stack = nullptr;
  }
  if (g_check && r.smem_bytes) std::memset(g_exec.dyn_smem, 0xFF, r.smem_bytes);  // NaN: read-before-write shows
  const unsigned n = r.n;
  for (;;) {
    for (unsigned k = 0; k < n; ++k) {
      Thread& t = r.th[reverse ? n - 1 - k : k];
      if (t.st != St::ready) continue;
      resume(r, t);
      if (r.failed) break;
    }
    if (r.failed) break;
    if (complete_warps(r)) continue;
    if (r.failed) break;
    unsigned done = 0, at_warp = 0;
    for (const Thread& t : r.th) {
      done += t.st == St::done;
      at_warp += t.st == St::at_warp;
    }
    if (done == n) break;
    if (at_warp == 0) {
      release_barrier(r);
      if (r.failed) break;
      continue;
    }
    report_deadlock(r);
    break;
  }
  for (Thread& t : r.th) release_stack(r, t);  // stacks of abandoned (failed) fibers are simply reused
}

void run_grid(Runner& r, const LaunchConfig& cfg, bool reverse) {
  const uint64_t gx = cfg.grid.x, gy = cfg.grid.y, blocks = gx * gy * cfg.grid.z;
  for (uint64_t k = 0; k < blocks && !r.failed; ++k) {
    uint64_t b = reverse ? blocks - 1 - k : k;
    g_exec.block_idx = uint3{static_cast<unsigned>(b % gx), static_cast<unsigned>(b / gx % gy),
                             static_cast<unsigned>(b / (gx * gy))};
    run_block(r, reverse);
  }
}

// ------------------------------------------------------------------ launch validation and memory
std::string validate(const LaunchConfig& c) {
  std::ostringstream os;
  const dim3 &g = c.grid, &b = c.block;
  uint64_t threads = uint64_t{b.x} * b.y * b.z;
  auto d = [](const dim3& v) { return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")"; };
  if (!g.x || !g.y || !g.z) os << "grid " << d(g) << " has a zero dimension";
  else if (!b.x || !b.y || !b.z) os << "block " << d(b) << " has a zero dimension";
  else if (threads > 1024) os << "block " << d(b) << " has " << threads << " threads; the limit is 1024";
  else if (b.x > 1024 || b.y > 1024 || b.z > 64) os << "block " << d(b) << " exceeds the per-dimension limits (1024, 1024, 64)";
  else if (g.x > 2147483647u || g.y > 65535 || g.z > 65535) os << "grid " << d(g) << " exceeds the limits (2^31-1, 65535, 65535)";
  else if (c.smem > 48 * 1024) os << "dynamic shared memory of " << c.smem << " bytes exceeds the default limit of 49152 bytes";
  if (os.str().empty()) return "";
  return "invalid launch configuration: " + os.str();
}

void setup_smem(Runner& r, size_t bytes) {
  if (r.smem_map) {
    munmap(r.smem_map, r.smem_map_len);
    r.smem_map = nullptr;
  }
  r.smem_bytes = bytes;
  g_exec.dyn_smem = nullptr;
  if (!bytes) return;
  size_t body = (bytes + 15) & ~size_t{15};
  if (g_check) {  // flush against a guard page: one byte past the end (rounded to 16) faults
    size_t pg = page_size(), data = (body + pg - 1) / pg * pg;
    void* m = mmap(nullptr, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("CUDA emulator: cannot map dynamic shared memory");
    r.smem_map = static_cast<unsigned char*>(m);
    r.smem_map_len = data + pg;
    mprotect(r.smem_map + data, pg, PROT_NONE);
    g_exec.dyn_smem = r.smem_map + data - body;
  } else {
    r.smem_heap.resize(body + 16);
    uintptr_t p = (reinterpret_cast<uintptr_t>(r.smem_heap.data()) + 15) & ~uintptr_t{15};
    g_exec.dyn_smem = reinterpret_cast<unsigned char*>(p);
  }
}

// SIGSEGV in a fiber (checking mode only): remember the address and jump straight back to the
// scheduler, which turns it into a launch error. Any other SIGSEGV goes to the previous handler.
struct sigaction g_old_segv, g_old_bus;
thread_local stack_t t_old_altstack;
thread_local unsigned char* t_altstack = nullptr;

void segv_handler(int sig, siginfo_t* si, void* ctx) {
  Runner* r = t_runner;
  if (r && r->in_fiber && r->cur) {
    r->fault_addr = si->si_addr;
    r->faulted = 1;
    r->in_fiber = false;
    yield(*r);  // never returns: the faulting fiber is abandoned
  }
  const struct sigaction& old = sig == SIGBUS ? g_old_bus : g_old_segv;
  if (old.sa_flags & SA_SIGINFO) {
    old.sa_sigaction(sig, si, ctx);
  } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    old.sa_handler(sig);
  } else {
    sigaction(sig, &old, nullptr);  // returning re-executes the faulting access under the default action
  }
}

void install_fault_handler() {
  if (!t_altstack) t_altstack = static_cast<unsigned char*>(std::malloc(64 * 1024));
  stack_t ss{};
  ss.ss_sp = t_altstack;
  ss.ss_size = 64 * 1024;
  sigaltstack(&ss, &t_old_altstack);
  struct sigaction sa {};
  sa.sa_sigaction = segv_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;  // NODEFER: we leave the handler by switching away
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_old_segv);
  sigaction(SIGBUS, &sa, &g_old_bus);
}

void remove_fault_handler() {
  sigaction(SIGSEGV, &g_old_segv, nullptr);
  sigaction(SIGBUS, &g_old_bus, nullptr);
  sigaltstack(&t_old_altstack, nullptr);
}

}  // namespace

// ------------------------------------------------------------------------------------ public API
int block_barrier(BarKind kind, int pred, const std::source_location& loc) {
  Runner& r = fiber_runner(bar_name(kind));
  Thread& t = *r.cur;
  t.st = St::at_bar;
  t.bar = kind;
  t.val = static_cast<uint64_t>(pred != 0);
  t.site = loc;
  yield(r);
  return static_cast<int>(t.res);
}

uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int param, int width,
                         const std::source_location& loc) {
  Runner& r = fiber_runner(warp_op_name(op));
  Thread& t = *r.cur;
  unsigned lane = t.linear % 32;
  if (!(mask >> lane & 1))
    fail_and_stop(r, std::string(warp_op_name(op)) + " at " + site_str(loc) + ": the calling lane " +
                         std::to_string(lane) + " is not in mask " + hex(mask));
  if (width < 1 || width > 32 || (width & (width - 1)))
    fail_and_stop(r, std::string(warp_op_name(op)) + " at " + site_str(loc) + ": width " + std::to_string(width) +
                         " is not a power of two in [1, 32]");
  t.st = St::at_warp;
  t.wop = op;
  t.mask = mask;
  t.val = value;
  t.param = param;
  t.width = width;
  t.site = loc;
  yield(r);
  return t.res;
}

void launch(const LaunchConfig& cfg, KernelBody body, void* closure, const void* const* ptr_args, int n_ptr_args) {
  Runner& r = runner();
  if (r.in_fiber) {
    fail(r, "kernel launched from inside a kernel (dynamic parallelism is not supported)", r.cur);
    return;
  }
  if (!r.error.empty()) return;  // an unchecked earlier failure is sticky, as in CUDA
  r.failed = false;
  std::string bad = validate(cfg);
  if (!bad.empty()) {
    r.error = bad;
    return;
  }
  const bool check = g_check;
  if (check) {
    for (int i = 0; i < n_ptr_args; ++i)
      if (!detail::is_device_pointer(ptr_args[i])) {
        std::ostringstream os;
        os << "pointer argument " << ptr_args[i]
           << " is not device memory (a host pointer, or freed memory?): pass buffers from nk::cuda::device_alloc";
        r.error = os.str();
        return;
      }
  }
  r.n = cfg.block.x * cfg.block.y * cfg.block.z;
  r.th.assign(r.n, Thread{});
  for (unsigned i = 0; i < r.n; ++i) {
    r.th[i].linear = i;
    r.th[i].tid = uint3{i % cfg.block.x, i / cfg.block.x % cfg.block.y, i / (cfg.block.x * cfg.block.y)};
  }
  r.body = body;
  r.closure = closure;
  r.use_asm = g_use_asm;
  g_exec.block_dim = cfg.block;
  g_exec.grid_dim = cfg.grid;
  g_exec.float_atomics = 0;
  setup_smem(r, cfg.smem);
  if (check) install_fault_handler();
  try {
    if (check && g_differential) {
      // Same input, forward then reverse thread and block order: a correct kernel writes the same bytes.
      detail::Snapshot before = detail::snapshot_all();
      run_grid(r, cfg, false);
      if (!r.failed) {
        detail::Snapshot forward = detail::snapshot_all();
        bool float_atomics = g_exec.float_atomics > 0;
        detail::restore(before);
        run_grid(r, cfg, true);
        if (!r.failed) {
          std::string diff = detail::compare_with(forward, float_atomics);
          if (!diff.empty())
            r.error = "the result depends on the order threads and blocks run (forward vs reverse schedule): " +
                      diff + ". Likely a missing __syncthreads/__syncwarp, a race between threads, or shared "
                      "memory read before it is written";
        }
      }
    } else {
      run_grid(r, cfg, g_reverse);
    }
    if (check && r.error.empty()) {
      std::string c = detail::check_canaries();
      if (!c.empty()) r.error = "out-of-bounds write: " + c;
    }
  } catch (const std::exception& e) {
    if (r.error.empty()) r.error = e.what();
  }
  if (check) remove_fault_handler();
  g_exec.thread_idx = nullptr;
}

std::string take_error() {
  Runner& r = runner();
  std::string e;
  std::swap(e, r.error);
  r.failed = false;
  return e;
}

namespace detail {
void record_error(const std::string& what) {
  Runner& r = runner();
  if (r.error.empty()) r.error = what;
}
}  // namespace detail

void set_check(bool on) { g_check = on; }
bool get_check() { return g_check; }
void set_differential(bool on) { g_differential = on; }
bool get_differential() { return g_differential; }
void set_schedule(const std::string& order) {
  if (order != "forward" && order != "reverse")
    throw std::invalid_argument("emulator schedule must be 'forward' or 'reverse'. Received: order=" + order);
  g_reverse = order == "reverse";
}
std::string get_schedule() { return g_reverse ? "reverse" : "forward"; }
void set_fiber_backend(const std::string& name) {
  if (name == "ucontext") {
    g_use_asm = false;
  } else if (name == "asm" && NK_EMU_HAVE_ASM) {
    g_use_asm = true;
  } else {
    throw std::invalid_argument(std::string("fiber backend must be ") + (NK_EMU_HAVE_ASM ? "'asm' or " : "") +
                                "'ucontext'. Received: name=" + name);
  }
}
std::string get_fiber_backend() { return g_use_asm ? "asm" : "ucontext"; }

}  // namespace nk::emu
