// upsample_avx512.cpp - the nhwc UpSampling2D variant built with AVX512 flags (the compiler
// vectorises the channel loops of cpu/upsample_kernels.inc). Definitions: cpu/upsample.h.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/upsample.h"

namespace nk {
namespace upsample_avx512 {
#include "cpu/upsample_kernels.inc"
}
}  // namespace nk
