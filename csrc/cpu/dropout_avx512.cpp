// dropout_avx512.cpp - placeholder: forwards to the scalar path until the SIMD version lands.
#include "cpu/dropout.h"

namespace nk {
namespace dropout_avx512 {
void apply(float* y, const float* x, int64_t begin, int64_t end, uint32_t threshold, float scale, uint64_t seed) {
  dropout_scalar::apply(y, x, begin, end, threshold, scale, seed);
}
}  // namespace dropout_avx512
}  // namespace nk
