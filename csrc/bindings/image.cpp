// image.cpp (bindings) - argument checks for the image kernels (csrc/cpu/image.*), then the kernels.
#include <cmath>
#include <string>

#include "bindings/common.h"
#include "bindings/image_args.h"
#include "cpu/image.h"

namespace nk {

namespace {

// Checks shared by forward and backward: img (N,H,W,C) is the input side, out (N,OH,OW,C) the output
// side, t (N,6) finite; the two images must not overlap.
void check_args(const Tensor& img, const char* iname, const Tensor& out, const char* oname, const Tensor& t) {
  check_f32(img, iname); check_f32(out, oname); check_f32(t, "transforms");
  image_args::check_shapes(img, iname, out, oname, t);
  image_args::check_finite(t.data<float>(), t.numel());
}

}  // namespace

void bind_image(py::module_& m) {
  m.def("affine_transform2d_forward", [](Tensor& y, const Tensor& x, const Tensor& t, const std::string& interp,
                                         const std::string& fill_mode, double fill_value) {
    check_args(x, "x", y, "y", t);
    auto ip = image_args::parse_interpolation(interp);
    auto fm = image_args::parse_fill_mode(fill_mode);
    NK_CHECK(std::isfinite(fill_value), "fill_value must be finite, got ", fill_value);
    py::gil_scoped_release nogil;
    affine_transform2d_forward(y.data<float>(), x.data<float>(), t.data<float>(), x.dim(0), x.dim(1), x.dim(2),
                               x.dim(3), y.dim(1), y.dim(2), ip, fm, static_cast<float>(fill_value));
  }, py::arg("y"), py::arg("x"), py::arg("transforms"), py::arg("interpolation"), py::arg("fill_mode"),
  py::arg("fill_value"),
  "y[n,i,j,:] = x[n] sampled at (row, col) = (b0*j + b1*i + b2, a0*j + a1*i + a2), t[n] = [a0 a1 a2 b0 b1 b2].");
  m.def("affine_transform2d_backward", [](Tensor& dx, const Tensor& dy, const Tensor& t, const std::string& interp,
                                          const std::string& fill_mode) {
    check_args(dx, "dx", dy, "dy", t);
    auto ip = image_args::parse_interpolation(interp);
    auto fm = image_args::parse_fill_mode(fill_mode);
    py::gil_scoped_release nogil;
    affine_transform2d_backward(dx.data<float>(), dy.data<float>(), t.data<float>(), dx.dim(0), dx.dim(1),
                                dx.dim(2), dx.dim(3), dy.dim(1), dy.dim(2), ip, fm);
  }, py::arg("dx"), py::arg("dy"), py::arg("transforms"), py::arg("interpolation"), py::arg("fill_mode"),
  "dx = adjoint of affine_transform2d_forward applied to dy (overwrites dx).");
}

}  // namespace nk
