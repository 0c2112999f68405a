// lstm_avx2.cpp - the avx2 path of the fused LSTM cell pass: cpu/lstm_kernels.inc compiled on the
// 256-bit wrappers of cpu/simd.h (per-file flags from CMakeLists.txt). Definitions: cpu/lstm.h.
#include <cmath>
#include <cstdint>

#include "cpu/activation.h"
#include "cpu/lstm.h"
#include "cpu/simd.h"

namespace nk {
namespace lstm_avx2 {
using namespace nk::simd256;
#include "cpu/simd_math.inc"
#include "cpu/lstm_kernels.inc"

}  // namespace lstm_avx2
}  // namespace nk
