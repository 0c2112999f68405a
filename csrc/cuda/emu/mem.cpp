// mem.cpp - "device" memory of the CPU emulator: host memory plus a registry of live allocations.
//
// Normal mode: 256-byte aligned heap blocks (the alignment cudaMalloc guarantees).
// Checking mode: each allocation gets its own mapping, placed flush against a trailing PROT_NONE guard
// page (16-byte aligned, so any access past the rounded end faults at once); the few bytes of slack
// before the guard and everything before the start are filled with a canary checked after every launch
// (catching small overruns and underflows); fresh memory is filled with 0xFF (NaN as float32) so that a
// kernel reading memory nobody wrote shows up. Freed mappings are unmapped: a use after free faults.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "cuda/emu/emu.h"
#include "cuda/emu/internal.h"

namespace nk::emu {
namespace {

constexpr unsigned char kCanary = 0xCD;

struct Alloc {
  size_t bytes = 0;
  unsigned char* map = nullptr;  // checking mode: the mapping (data pages + guard page); else nullptr
  size_t map_len = 0;
};

std::mutex g_mu;
std::map<uintptr_t, Alloc> g_allocs;  // by start address

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}
size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// The live allocation whose [start, start + bytes] contains p (one past the end included), or end().
std::map<uintptr_t, Alloc>::iterator find_locked(const void* p) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = g_allocs.upper_bound(a);
  if (it == g_allocs.begin()) return g_allocs.end();
  --it;
  return a <= it->first + it->second.bytes ? it : g_allocs.end();
}

std::string canary_error(uintptr_t start, const Alloc& a) {
  unsigned char* p = reinterpret_cast<unsigned char*>(start);
  size_t body = round_up(a.bytes, 16);
  for (size_t i = a.bytes; i < body; ++i)
    if (p[i] != kCanary) {
      std::ostringstream os;
      os << "byte " << i - a.bytes << " past the end of a " << a.bytes << "-byte device allocation was written";
      return os.str();
    }
  for (unsigned char* q = a.map; q < p; ++q)
    if (*q != kCanary) {
      std::ostringstream os;
      os << "byte " << p - q << " before the start of a " << a.bytes << "-byte device allocation was written";
      return os.str();
    }
  return "";
}

// Re-arm the canaries of an allocation whose damage was just reported, so that the same write is not
// reported a second time (at its cudaFree, as a pending error raised by some later, unrelated call).
void restore_canaries(uintptr_t start, const Alloc& a) {
  unsigned char* p = reinterpret_cast<unsigned char*>(start);
  std::memset(a.map, kCanary, static_cast<size_t>(p - a.map));
  std::memset(p + a.bytes, kCanary, round_up(a.bytes, 16) - a.bytes);
}

}  // namespace

void* mem_alloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  unsigned char* p = nullptr;
  Alloc a;
  a.bytes = bytes;
  if (get_check()) {
    size_t body = round_up(bytes, 16), data = round_up(body, page_size());
    void* m = mmap(nullptr, data + page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
      throw std::runtime_error("cudaMalloc (emulated) of " + std::to_string(bytes) + " bytes failed: out of memory");
    a.map = static_cast<unsigned char*>(m);
    a.map_len = data + page_size();
    mprotect(a.map + data, page_size(), PROT_NONE);
    p = a.map + data - body;
    std::memset(a.map, kCanary, static_cast<size_t>(p - a.map));
    std::memset(p, 0xFF, bytes);
    std::memset(p + bytes, kCanary, body - bytes);
  } else {
    p = static_cast<unsigned char*>(std::aligned_alloc(256, round_up(bytes, 256)));
    if (!p) throw std::runtime_error("cudaMalloc (emulated) of " + std::to_string(bytes) + " bytes failed: out of memory");
  }
  std::lock_guard<std::mutex> lock(g_mu);
  g_allocs[reinterpret_cast<uintptr_t>(p)] = a;
  return p;
}

// Never throws (it runs in destructors): problems become a pending error reported at the next check.
void mem_free(void* p) {
  if (!p) return;
  std::string problem;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_allocs.find(reinterpret_cast<uintptr_t>(p));
    if (it == g_allocs.end()) {
      problem = "cudaFree (emulated): pointer was not returned by device_alloc, or was freed twice";
    } else {
      Alloc a = it->second;
      if (a.map) {
        problem = canary_error(it->first, a);
        if (!problem.empty()) problem = "out-of-bounds write found at cudaFree: " + problem;
        munmap(a.map, a.map_len);
      } else {
        std::free(p);
      }
      g_allocs.erase(it);
    }
  }
  if (!problem.empty()) detail::record_error(problem);
}

void mem_check_range(const void* p, size_t bytes, const char* call) {
  if (bytes == 0) return;
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = find_locked(p);
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (it != g_allocs.end() && a + bytes <= it->first + it->second.bytes) return;
  std::ostringstream os;
  os << call << ": " << bytes << " bytes at " << p;
  if (it == g_allocs.end())
    os << " are not device memory (a host pointer, or freed memory?)";
  else
    os << " run past the end of a " << it->second.bytes << "-byte device allocation (offset "
       << a - it->first << ")";
  throw std::runtime_error(os.str());
}

size_t mem_live_count() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_allocs.size();
}

namespace detail {

bool is_device_pointer(const void* p) {
  if (!p) return true;
  std::lock_guard<std::mutex> lock(g_mu);
  return find_locked(p) != g_allocs.end();
}

Snapshot snapshot_all() {
  std::lock_guard<std::mutex> lock(g_mu);
  Snapshot s;
  s.blocks.reserve(g_allocs.size());
  for (auto& [start, a] : g_allocs) {
    unsigned char* p = reinterpret_cast<unsigned char*>(start);
    s.blocks.push_back({p, std::vector<unsigned char>(p, p + a.bytes)});
  }
  return s;
}

void restore(const Snapshot& s) {
  for (const auto& b : s.blocks) std::memcpy(b.ptr, b.bytes.data(), b.bytes.size());
}

std::string compare_with(const Snapshot& first, bool float_tolerance) {
  for (const auto& b : first.blocks) {
    const unsigned char* now = b.ptr;
    size_t n = b.bytes.size();
    if (std::memcmp(now, b.bytes.data(), n) == 0) continue;
    for (size_t i = 0; i < n; ++i) {
      if (now[i] == b.bytes[i]) continue;
      std::ostringstream os;
      size_t k = i / 4;
      if (n % 4 == 0) {
        float f, g;
        std::memcpy(&f, &b.bytes[k * 4], 4);
        std::memcpy(&g, &now[k * 4], 4);
        // Float atomics add in a different order in the two runs: allow rounding differences, but only
        // between normal floats. Integer buffers read as floats are mostly subnormal (|int| < 2^23):
        // such words must match exactly, so a race on an int output is still caught.
        const bool floats = (std::isnormal(f) || f == 0.0f) && (std::isnormal(g) || g == 0.0f);
        if (float_tolerance && ((floats && std::fabs(f - g) <= 1e-5f * std::fmax(std::fabs(f), std::fabs(g)) + 1e-6f)
                                || (std::isnan(f) && std::isnan(g)))) {
          i = k * 4 + 3;
          continue;
        }
        os << "in a " << n << "-byte allocation, float32 element " << k << " is " << f
           << " after the forward run but " << g << " after the reverse run";
      } else {
        os << "in a " << n << "-byte allocation, byte " << i << " is " << int(b.bytes[i])
           << " after the forward run but " << int(now[i]) << " after the reverse run";
      }
      return os.str();
    }
  }
  return "";
}

std::string check_canaries() {
  std::lock_guard<std::mutex> lock(g_mu);
  for (auto& [start, a] : g_allocs)
    if (a.map) {
      std::string e = canary_error(start, a);
      if (!e.empty()) {
        restore_canaries(start, a);  // reported once, here
        return e;
      }
    }
  return "";
}

std::string describe_address(const void* addr) {
  std::lock_guard<std::mutex> lock(g_mu);
  const unsigned char* q = static_cast<const unsigned char*>(addr);
  for (auto& [start, a] : g_allocs) {
    if (!a.map || q < a.map || q >= a.map + a.map_len) continue;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(start);
    std::ostringstream os;
    if (q >= p + a.bytes)
      os << q - (p + a.bytes) << " byte(s) past the end of a " << a.bytes << "-byte device allocation";
    else if (q < p)
      os << p - q << " byte(s) before the start of a " << a.bytes << "-byte device allocation";
    else
      os << "inside a " << a.bytes << "-byte device allocation";
    return os.str();
  }
  return "";
}

}  // namespace detail
}  // namespace nk::emu
