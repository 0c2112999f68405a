// lstm_avx512.cpp - the avx512 path of the fused LSTM cell pass: cpu/lstm_kernels.inc compiled on the
// 512-bit wrappers of cpu/simd.h (per-file flags from CMakeLists.txt). Definitions: cpu/lstm.h.
#include <cmath>
#include <cstdint>

#include "cpu/activation.h"
#include "cpu/lstm.h"
#include "cpu/simd.h"

namespace nk {
namespace lstm_avx512 {
using namespace nk::simd512;
#include "cpu/simd_math.inc"
#include "cpu/lstm_kernels.inc"

}  // namespace lstm_avx512
}  // namespace nk
