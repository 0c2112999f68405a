// batchnorm_avx512.cpp - the rows batch-norm passes built with AVX512 flags (the compiler vectorises
// the channel loops of cpu/batchnorm_kernels.inc). Definitions: cpu/batchnorm.h.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "cpu/batchnorm.h"

// GCC 12 false positive inside avx512fintrin.h (bug 105593); see cpu/simd.h
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace nk {
namespace batchnorm_avx512 {
#include "cpu/batchnorm_kernels.inc"
}
}  // namespace nk
