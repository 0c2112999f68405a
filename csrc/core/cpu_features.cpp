// cpu_features.cpp - cpuid-based ISA detection, the NEUROKERN_ISA override and thread control.
#include "core/cpu_features.h"

#include <atomic>
#include <cstdlib>

#include "core/errors.h"
#include "core/parallel.h"

namespace nk {

Isa cpu_isa() {
  static const Isa best = [] {
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the zmm/ymm state (xgetbv).
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
      return Isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
    return Isa::scalar;
  }();
  return best;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

Isa parse_isa(const std::string& name) {
  if (name == "scalar") return Isa::scalar;
  if (name == "avx2") return Isa::avx2;
  if (name == "avx512") return Isa::avx512;
  throw std::invalid_argument(msg("unknown ISA '", name, "': use 'scalar', 'avx2' or 'avx512'"));
}

static std::atomic<int>& isa_slot() {
  static std::atomic<int> slot = [] {
    Isa isa = cpu_isa();
    if (const char* env = std::getenv("NEUROKERN_ISA")) {
      if (*env) {
        Isa want = parse_isa(env);  // a typo is an error at first kernel call, not a silent default
        NK_CHECK(static_cast<int>(want) <= static_cast<int>(cpu_isa()), "NEUROKERN_ISA=", env,
                 " but this CPU supports at most ", isa_name(cpu_isa()));
        isa = want;
      }
    }
    return static_cast<int>(isa);
  }();
  return slot;
}

Isa active_isa() { return static_cast<Isa>(isa_slot().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
  NK_CHECK(static_cast<int>(isa) <= static_cast<int>(cpu_isa()), "cannot use ", isa_name(isa),
           ": this CPU supports at most ", isa_name(cpu_isa()));
  isa_slot().store(static_cast<int>(isa));
}

int num_threads() {
#ifdef NK_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_num_threads(int n) {
  NK_CHECK(n >= 1, "number of threads must be >= 1, got ", n);
#ifdef NK_OPENMP
  omp_set_num_threads(n);
#endif
}

}  // namespace nk
