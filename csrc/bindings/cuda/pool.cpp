// pool.cpp (CUDA bindings) - the `_core` pooling bindings (bindings/pool.cpp) for tensors on 'cuda':
// same names, arguments and checks, then cuda/pool.* kernels. Geometry (output size, 'same'
// padding) comes from nk::pool2d_geometry, shared with the CPU.
//   max_pool2d_forward(y, x, pool_size, strides, padding, variant)
//   max_pool2d_backward(dx, dy, x, pool_size, strides, padding, variant)        dx overwritten
//   avg_pool2d_forward(y, x, pool_size, strides, padding, variant)
//   avg_pool2d_backward(dx, dy, pool_size, strides, padding, variant)           dx overwritten
//   global_avg_pool2d_forward(y, x, variant) / global_avg_pool2d_backward(dx, dy, variant)
//   pool2d_output_shape(input_shape, pool_size, strides, padding) -> (N, OH, OW, C)
// variant on CUDA: 'auto' (= 'gather', the deterministic backward) or 'naive' (atomic scatter);
// forwards and global pooling have one kernel, so the variant only selects the backward.
#include <string>
#include <utility>
#include <vector>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/pool.h"

namespace nk {

using cuda::check_cuda_f32;

namespace {

using Pair = std::pair<int64_t, int64_t>;

void check_disjoint(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  auto pa = static_cast<const char*>(a.raw()), pb = static_cast<const char*>(b.raw());
  if (a.nbytes() == 0 || b.nbytes() == 0) return;
  NK_CHECK(pa + a.nbytes() <= pb || pb + b.nbytes() <= pa, an, " must not share memory with ", bn);
}

bool parse_padding(const std::string& p) {
  NK_CHECK(p == "valid" || p == "same", "padding must be 'valid' or 'same', got '", p, "'");
  return p == "same";
}

cuda::PoolVariant parse_variant(const std::string& v) {
  NK_CHECK(v == "auto" || v == "gather" || v == "naive", "unknown pooling variant '", v,
           "': choose one of auto, gather, naive (the variants on cuda)");
  return v == "naive" ? cuda::PoolVariant::naive : cuda::PoolVariant::gather;
}

void check_nhwc(const Tensor& t, const char* name, const char* op) {
  check_cuda_f32(t, name);
  NK_CHECK(t.ndim() == 4, op, ": ", name, " must be 4-d (N, H, W, C), got shape ", shape_str(t.shape()));
}

Pool2dGeom geometry(const std::vector<int64_t>& s, Pair pool, Pair strides, const std::string& padding) {
  return pool2d_geometry(s[0], s[1], s[2], s[3], pool.first, pool.second, strides.first, strides.second,
                         parse_padding(padding));
}

std::vector<int64_t> out_shape(const Pool2dGeom& g) { return {g.N, g.OH, g.OW, g.C}; }

}  // namespace

NK_CUDA_BINDING(pool) {
  m.def("pool2d_output_shape",
        [](const std::vector<int64_t>& input_shape, Pair pool, Pair strides, const std::string& padding) {
          NK_CHECK(input_shape.size() == 4, "pooling input must be 4-d (N, H, W, C), got shape ",
                   shape_str(input_shape));
          Pool2dGeom g = geometry(input_shape, pool, strides, padding);
          return py::make_tuple(g.N, g.OH, g.OW, g.C);
        },
        py::arg("input_shape"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"),
        "(N, OH, OW, C) of a 2-d pooling: 'valid' OH = (H - KH) // SH + 1, 'same' OH = ceil(H / SH).");

  m.def("max_pool2d_forward",
        [](Tensor& y, const Tensor& x, Pair pool, Pair strides, const std::string& padding,
           const std::string& variant) {
          check_nhwc(x, "x", "max_pool2d"); check_cuda_f32(y, "y");
          Pool2dGeom g = geometry(x.shape(), pool, strides, padding);
          check_shape(y, out_shape(g), "y");
          check_disjoint(y, "y", x, "x");
          parse_variant(variant);
          py::gil_scoped_release nogil;
          cuda::max_pool2d_forward(y.data<float>(), x.data<float>(), g);
        },
        py::arg("y"), py::arg("x"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"),
        py::arg("variant") = "auto", "y = max over each window of x (NHWC; padding never wins).");

  m.def("max_pool2d_backward",
        [](Tensor& dx, const Tensor& dy, const Tensor& x, Pair pool, Pair strides, const std::string& padding,
           const std::string& variant) {
          check_nhwc(x, "x", "max_pool2d_backward"); check_cuda_f32(dx, "dx"); check_cuda_f32(dy, "dy");
          Pool2dGeom g = geometry(x.shape(), pool, strides, padding);
          check_shape(dy, out_shape(g), "dy");
          check_shape(dx, x.shape(), "dx");
          check_disjoint(dx, "dx", dy, "dy"); check_disjoint(dx, "dx", x, "x");
          cuda::PoolVariant v = parse_variant(variant);
          py::gil_scoped_release nogil;
          cuda::max_pool2d_backward(dx.data<float>(), dy.data<float>(), x.data<float>(), g, v);
        },
        py::arg("dx"), py::arg("dy"), py::arg("x"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"),
        py::arg("variant") = "auto",
        "dx = dy routed to the first maximum of each window of x (sums where windows overlap); overwrites dx.");

  m.def("avg_pool2d_forward",
        [](Tensor& y, const Tensor& x, Pair pool, Pair strides, const std::string& padding,
           const std::string& variant) {
          check_nhwc(x, "x", "avg_pool2d"); check_cuda_f32(y, "y");
          Pool2dGeom g = geometry(x.shape(), pool, strides, padding);
          check_shape(y, out_shape(g), "y");
          check_disjoint(y, "y", x, "x");
          parse_variant(variant);
          py::gil_scoped_release nogil;
          cuda::avg_pool2d_forward(y.data<float>(), x.data<float>(), g);
        },
        py::arg("y"), py::arg("x"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"),
        py::arg("variant") = "auto", "y = mean over the in-bounds part of each window of x (NHWC).");

  m.def("avg_pool2d_backward",
        [](Tensor& dx, const Tensor& dy, Pair pool, Pair strides, const std::string& padding,
           const std::string& variant) {
          check_nhwc(dx, "dx", "avg_pool2d_backward"); check_cuda_f32(dy, "dy");
          Pool2dGeom g = geometry(dx.shape(), pool, strides, padding);
          check_shape(dy, out_shape(g), "dy");
          check_disjoint(dx, "dx", dy, "dy");
          cuda::PoolVariant v = parse_variant(variant);
          py::gil_scoped_release nogil;
          cuda::avg_pool2d_backward(dx.data<float>(), dy.data<float>(), g, v);
        },
        py::arg("dx"), py::arg("dy"), py::arg("pool_size"), py::arg("strides"), py::arg("padding"),
        py::arg("variant") = "auto",
        "dx = sum over windows containing each position of dy / (in-bounds count); overwrites dx (its shape "
        "is the forward input's).");

  m.def("global_avg_pool2d_forward",
        [](Tensor& y, const Tensor& x, const std::string& variant) {
          check_nhwc(x, "x", "global_avg_pool2d"); check_cuda_f32(y, "y");
          NK_CHECK(x.dim(1) >= 1 && x.dim(2) >= 1, "global_avg_pool2d: H and W must be >= 1, got shape ",
                   shape_str(x.shape()));
          check_shape(y, {x.dim(0), x.dim(3)}, "y");
          check_disjoint(y, "y", x, "x");
          parse_variant(variant);
          const int64_t N = x.dim(0), HW = x.dim(1) * x.dim(2), C = x.dim(3);
          py::gil_scoped_release nogil;
          cuda::global_avg_pool2d_forward(y.data<float>(), x.data<float>(), N, HW, C);
        },
        py::arg("y"), py::arg("x"), py::arg("variant") = "auto", "y[n, c] = mean over (h, w) of x[n, h, w, c].");

  m.def("global_avg_pool2d_backward",
        [](Tensor& dx, const Tensor& dy, const std::string& variant) {
          check_nhwc(dx, "dx", "global_avg_pool2d_backward"); check_cuda_f32(dy, "dy");
          NK_CHECK(dx.dim(1) >= 1 && dx.dim(2) >= 1, "global_avg_pool2d_backward: H and W must be >= 1, got shape ",
                   shape_str(dx.shape()));
          check_shape(dy, {dx.dim(0), dx.dim(3)}, "dy");
          check_disjoint(dx, "dx", dy, "dy");
          parse_variant(variant);
          const int64_t N = dx.dim(0), HW = dx.dim(1) * dx.dim(2), C = dx.dim(3);
          py::gil_scoped_release nogil;
          cuda::global_avg_pool2d_backward(dx.data<float>(), dy.data<float>(), N, HW, C);
        },
        py::arg("dx"), py::arg("dy"), py::arg("variant") = "auto", "dx[n, h, w, c] = dy[n, c] / (H * W); overwrites dx.");
}

}  // namespace nk
