// pad.cpp (CUDA bindings) - the `_core` ZeroPadding2D bindings (bindings/pad.cpp) for tensors on
// 'cuda': same names, arguments and checks, then cuda/pad.* kernels.
//   pad2d_forward(y, x, padding)      padding = ((top, bottom), (left, right)), all >= 0
//   pad2d_backward(dx, dy, padding)   dx = dy cropped; overwritten
#include <utility>
#include <vector>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/pad.h"

namespace nk {

using cuda::check_cuda_f32;

namespace {

using Padding = std::pair<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>>;

void check_disjoint(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  auto pa = static_cast<const char*>(a.raw()), pb = static_cast<const char*>(b.raw());
  if (a.nbytes() == 0 || b.nbytes() == 0) return;
  NK_CHECK(pa + a.nbytes() <= pb || pb + b.nbytes() <= pa, an, " must not share memory with ", bn);
}

Pad2dGeom geometry(const std::vector<int64_t>& s, const Padding& p) {
  NK_CHECK(p.first.first >= 0 && p.first.second >= 0 && p.second.first >= 0 && p.second.second >= 0,
           "pad2d: padding must be non-negative ((top, bottom), (left, right)), got ((", p.first.first, ", ",
           p.first.second, "), (", p.second.first, ", ", p.second.second, "))");
  return {s[0], s[1], s[2], s[3], p.first.first, p.first.second, p.second.first, p.second.second};
}

std::vector<int64_t> padded(const Pad2dGeom& g) { return {g.N, g.H + g.PT + g.PB, g.W + g.PL + g.PR, g.C}; }

}  // namespace

NK_CUDA_BINDING(pad) {
  m.def("pad2d_forward",
        [](Tensor& y, const Tensor& x, const Padding& padding) {
          check_cuda_f32(x, "x"); check_cuda_f32(y, "y");
          NK_CHECK(x.ndim() == 4, "pad2d: x must be 4-d (N, H, W, C), got shape ", shape_str(x.shape()));
          Pad2dGeom g = geometry(x.shape(), padding);
          check_shape(y, padded(g), "y");
          check_disjoint(y, "y", x, "x");
          py::gil_scoped_release nogil;
          cuda::pad2d_forward(y.data<float>(), x.data<float>(), g);
        },
        py::arg("y"), py::arg("x"), py::arg("padding"),
        "y = x with zero rows above/below and zero columns left/right (ZeroPadding2D, NHWC).");
  m.def("pad2d_backward",
        [](Tensor& dx, const Tensor& dy, const Padding& padding) {
          check_cuda_f32(dx, "dx"); check_cuda_f32(dy, "dy");
          NK_CHECK(dx.ndim() == 4, "pad2d_backward: dx must be 4-d (N, H, W, C), got shape ", shape_str(dx.shape()));
          Pad2dGeom g = geometry(dx.shape(), padding);
          check_shape(dy, padded(g), "dy");
          check_disjoint(dx, "dx", dy, "dy");
          py::gil_scoped_release nogil;
          cuda::pad2d_backward(dx.data<float>(), dy.data<float>(), g);
        },
        py::arg("dx"), py::arg("dy"), py::arg("padding"), "dx = dy without its padded border (the crop); overwrites dx.");
}

}  // namespace nk
