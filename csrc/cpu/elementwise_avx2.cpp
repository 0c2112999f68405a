// elementwise_avx2.cpp - cpu/elementwise_kernels.inc compiled with the avx2 flags (see CMakeLists.txt).
#define NK_EW_NS ew_avx2
#include "cpu/elementwise.h"
#include "cpu/elementwise_kernels.inc"
