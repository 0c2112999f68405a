// pool_avx2.cpp - the nhwc pooling variant built with AVX2 flags (ymm: the compiler vectorises the
// channel loops of cpu/pool_kernels.inc with ymm registers). Definitions: cpu/pool.h.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/parallel.h"
#include "cpu/pool.h"

namespace nk {
namespace pool_avx2 {
#include "cpu/pool_kernels.inc"
}
}  // namespace nk
