// activation_avx512.cpp - the avx512 path of the activation kernels: cpu/simd_math.inc and
// cpu/activation_kernels.inc compiled on the 512-bit wrappers of cpu/simd.h (per-file flags from
// CMakeLists.txt). Definitions and size letters: cpu/activation.cpp.
#include <cmath>
#include <cstdint>

#include "cpu/activation.h"
#include "cpu/simd.h"

namespace nk {
namespace act_avx512 {
using namespace nk::simd512;
#include "cpu/simd_math.inc"
#include "cpu/activation_kernels.inc"
}  // namespace act_avx512
}  // namespace nk
