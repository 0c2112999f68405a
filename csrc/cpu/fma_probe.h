// fma_probe.h - the FMA peak probe, written once and compiled in each ISA file (gemm_avx2.cpp,
// gemm_avx512.cpp) with that file's vector type and intrinsics.
// 12 independent FMA chains cover 2 FMA ports x 4 cycles of latency. The rate is the best over
// ~10 us chunks, like the best-of-N GEMM timings it is compared with: a chunk in which another
// process took the core is simply not the best one.
#pragma once
#include <algorithm>
#include <chrono>

namespace nk {
namespace {

// V: vector type with `lanes` floats; set1(float) -> V; fma(a, b, c) -> a*b + c; first(V) -> float.
template <typename V, typename Set1, typename Fma, typename First>
double fma_peak_probe(double seconds, int lanes, Set1 set1, Fma fma, First first) {
  constexpr int kChains = 12;
  V acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = set1(1e-3f * i);
  const V a = set1(0.999999f), b = set1(1e-7f);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  double best = 0.0, elapsed = 0.0;
  do {
    const auto c0 = clock::now();
    for (int rep = 0; rep < 4096; ++rep) {
#pragma GCC unroll 12
      for (int i = 0; i < kChains; ++i) acc[i] = fma(acc[i], a, b);
    }
    const auto c1 = clock::now();
    best = std::max(best, 4096.0 / std::chrono::duration<double>(c1 - c0).count());
    elapsed = std::chrono::duration<double>(c1 - t0).count();
  } while (elapsed < seconds);
  float sum = 0.0f;
  for (int i = 0; i < kChains; ++i) sum += first(acc[i]);
  volatile float sink = sum;  // keep the chains alive
  (void)sink;
  return 2.0 * lanes * kChains * best * 1e-9;  // flop per iteration x iterations per second
}

}  // namespace
}  // namespace nk
