// image_avx512.cpp - cpu/image_kernels.inc compiled with the avx512 flags (see CMakeLists.txt).
#define NK_IMAGE_NS image_avx512
#include "cpu/image.h"
#include "cpu/image_kernels.inc"
