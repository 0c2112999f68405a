// upsample.cpp (CUDA bindings) - the `_core` UpSampling2D bindings (bindings/upsample.cpp) for
// tensors on 'cuda': same names, arguments and checks, then cuda/upsample.* kernels.
//   upsampling2d_forward(y, x, size, interpolation, variant)
//   upsampling2d_backward(dx, dy, size, interpolation, variant)     dx overwritten
// variant on CUDA: 'auto' (= 'gather', the deterministic backward) or 'naive' (atomic scatter).
#include <string>
#include <utility>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/upsample.h"

namespace nk {

using cuda::check_cuda_f32;

namespace {

void check_disjoint(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  auto pa = static_cast<const char*>(a.raw()), pb = static_cast<const char*>(b.raw());
  if (a.nbytes() == 0 || b.nbytes() == 0) return;
  NK_CHECK(pa + a.nbytes() <= pb || pb + b.nbytes() <= pa, an, " must not share memory with ", bn);
}

Upsample2dGeom geometry(const Tensor& in, const char* name, std::pair<int64_t, int64_t> size,
                        const std::string& interpolation) {
  check_cuda_f32(in, name);
  NK_CHECK(in.ndim() == 4, "upsampling2d: ", name, " must be 4-d (N, H, W, C), got shape ", shape_str(in.shape()));
  NK_CHECK(size.first >= 1 && size.second >= 1, "upsampling2d: size must be positive integers, got (", size.first,
           ", ", size.second, ")");
  NK_CHECK(interpolation == "nearest" || interpolation == "bilinear",
           "upsampling2d: interpolation must be 'nearest' or 'bilinear', got '", interpolation, "'");
  return {in.dim(0), in.dim(1), in.dim(2), in.dim(3), size.first, size.second, interpolation == "bilinear"};
}

cuda::UpsampleVariant parse_variant(const std::string& v) {
  NK_CHECK(v == "auto" || v == "gather" || v == "naive", "unknown upsampling variant '", v,
           "': choose one of auto, gather, naive (the variants on cuda)");
  return v == "naive" ? cuda::UpsampleVariant::naive : cuda::UpsampleVariant::gather;
}

}  // namespace

NK_CUDA_BINDING(upsample) {
  m.def("upsampling2d_forward",
        [](Tensor& y, const Tensor& x, std::pair<int64_t, int64_t> size, const std::string& interpolation,
           const std::string& variant) {
          Upsample2dGeom g = geometry(x, "x", size, interpolation);
          check_cuda_f32(y, "y");
          check_shape(y, {g.N, g.H * g.SH, g.W * g.SW, g.C}, "y");
          check_disjoint(y, "y", x, "x");
          parse_variant(variant);
          py::gil_scoped_release nogil;
          cuda::upsampling2d_forward(y.data<float>(), x.data<float>(), g);
        },
        py::arg("y"), py::arg("x"), py::arg("size"), py::arg("interpolation"), py::arg("variant") = "auto",
        "y = x upsampled by integer factors size (NHWC): nearest repeat or half-pixel bilinear (Keras).");
  m.def("upsampling2d_backward",
        [](Tensor& dx, const Tensor& dy, std::pair<int64_t, int64_t> size, const std::string& interpolation,
           const std::string& variant) {
          Upsample2dGeom g = geometry(dx, "dx", size, interpolation);
          check_cuda_f32(dy, "dy");
          check_shape(dy, {g.N, g.H * g.SH, g.W * g.SW, g.C}, "dy");
          check_disjoint(dx, "dx", dy, "dy");
          cuda::UpsampleVariant v = parse_variant(variant);
          py::gil_scoped_release nogil;
          cuda::upsampling2d_backward(dx.data<float>(), dy.data<float>(), g, v);
        },
        py::arg("dx"), py::arg("dy"), py::arg("size"), py::arg("interpolation"), py::arg("variant") = "auto",
        "dx = the transpose of upsampling2d applied to dy; overwrites dx (its shape is the forward input's).");
}

}  // namespace nk
