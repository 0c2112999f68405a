// image_avx2.cpp - cpu/image_kernels.inc compiled with the avx2 flags (see CMakeLists.txt).
#define NK_IMAGE_NS image_avx2
#include "cpu/image.h"
#include "cpu/image_kernels.inc"
