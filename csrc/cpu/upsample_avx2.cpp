// upsample_avx2.cpp - the nhwc UpSampling2D variant built with AVX2 flags (the compiler
// vectorises the channel loops of cpu/upsample_kernels.inc). Definitions: cpu/upsample.h.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/upsample.h"

namespace nk {
namespace upsample_avx2 {
#include "cpu/upsample_kernels.inc"
}
}  // namespace nk
