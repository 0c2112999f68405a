// batchnorm_avx2.cpp - the rows batch-norm passes built with AVX2 flags (the compiler vectorises
// the channel loops of cpu/batchnorm_kernels.inc). Definitions: cpu/batchnorm.h.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "cpu/batchnorm.h"

namespace nk {
namespace batchnorm_avx2 {
#include "cpu/batchnorm_kernels.inc"
}
}  // namespace nk
