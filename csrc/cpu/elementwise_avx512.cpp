// elementwise_avx512.cpp - cpu/elementwise_kernels.inc compiled with the avx512 flags (see CMakeLists.txt).
#define NK_EW_NS ew_avx512
#include "cpu/elementwise.h"
#include "cpu/elementwise_kernels.inc"
