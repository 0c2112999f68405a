// pool_avx512.cpp - the nhwc pooling variant built with AVX512 flags (the compiler vectorises the
// channel loops of cpu/pool_kernels.inc with zmm registers). Definitions: cpu/pool.h.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/parallel.h"
#include "cpu/pool.h"

// GCC 12 false positive inside avx512fintrin.h (bug 105593); see cpu/simd.h
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace nk {
namespace pool_avx512 {
#include "cpu/pool_kernels.inc"
}
}  // namespace nk
