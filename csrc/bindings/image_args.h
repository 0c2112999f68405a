// image_args.h - argument parsing and checks shared by the image bindings of both modules
// (bindings/image.cpp for _core, bindings/cuda/image.cpp for the CUDA modules). Device and dtype
// checks stay in each binding; everything about names, shapes and values is here, once.
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "core/tensor.h"
#include "cpu/image.h"

namespace nk {
namespace image_args {

inline ImageInterpolation parse_interpolation(const std::string& s) {
  if (s == "bilinear") return ImageInterpolation::bilinear;
  if (s == "nearest") return ImageInterpolation::nearest;
  throw std::invalid_argument(msg("interpolation must be 'bilinear' or 'nearest', got '", s, "'"));
}

inline ImageFillMode parse_fill_mode(const std::string& s) {
  if (s == "reflect") return ImageFillMode::reflect;
  if (s == "wrap") return ImageFillMode::wrap;
  if (s == "constant") return ImageFillMode::constant;
  if (s == "nearest") return ImageFillMode::nearest;
  throw std::invalid_argument(msg("fill_mode must be 'reflect', 'wrap', 'constant' or 'nearest', got '", s, "'"));
}

// img (N,H,W,C) is the input side, out (N,OH,OW,C) the output side, t (N,6); the images must not overlap.
inline void check_shapes(const Tensor& img, const char* iname, const Tensor& out, const char* oname,
                         const Tensor& t) {
  check_ndim(img, 4, iname);
  check_ndim(out, 4, oname);
  NK_CHECK(out.dim(0) == img.dim(0) && out.dim(3) == img.dim(3), oname, " has shape ", shape_str(out.shape()),
           " but ", iname, " has shape ", shape_str(img.shape()), ": batch and channel sizes must match");
  check_shape(t, {img.dim(0), 6}, "transforms");
  auto a = static_cast<const char*>(img.raw()), b = static_cast<const char*>(out.raw());
  NK_CHECK(img.nbytes() == 0 || out.nbytes() == 0 || a + img.nbytes() <= b || b + out.nbytes() <= a,
           oname, " and ", iname, " overlap: resampling cannot run in place, pass a separate output");
}

// t: the n transform entries, on the host.
inline void check_finite(const float* t, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    NK_CHECK(std::isfinite(t[k]), "transforms must be finite; entry ", k / 6, ",", k % 6, " is ", t[k]);
}

}  // namespace image_args
}  // namespace nk
