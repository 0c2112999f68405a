// elementwise.cpp (CUDA bindings) - the _core elementwise API (bindings/elementwise.cpp) on device
// tensors: same names, arguments and checks; kernels in csrc/cuda/elementwise.cu. Broadcasting and
// axis handling stay in python/neurokern/ops/elementwise.py.
#include <vector>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/elementwise.h"

namespace nk {

using cuda::check_cuda;
using cuda::check_cuda_f32;

namespace {

void check_same_or_disjoint(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  auto pa = static_cast<const char*>(a.raw()), pb = static_cast<const char*>(b.raw());
  if (pa == pb || a.nbytes() == 0 || b.nbytes() == 0) return;
  bool disjoint = pa + a.nbytes() <= pb || pb + b.nbytes() <= pa;
  NK_CHECK(disjoint, an, " and ", bn, " overlap partially: pass the same tensor (in place) or separate ones");
}

void check_unary(const Tensor& y, const Tensor& x) {
  check_cuda_f32(y, "y"); check_cuda_f32(x, "x");
  check_same_shape(y, "y", x, "x");
  check_same_or_disjoint(y, "y", x, "x");
}

template <void (*Kernel)(float*, const float*, const float*, int64_t)>
void def_binary(py::module_& m, const char* name, const char* doc) {
  m.def(name, [](Tensor& y, const Tensor& a, const Tensor& b) {
    check_cuda_f32(y, "y"); check_cuda_f32(a, "a"); check_cuda_f32(b, "b");
    check_same_shape(a, "a", b, "b");
    check_same_shape(y, "y", a, "a");
    check_same_or_disjoint(y, "y", a, "a");
    check_same_or_disjoint(y, "y", b, "b");
    py::gil_scoped_release nogil;
    Kernel(y.data<float>(), a.data<float>(), b.data<float>(), y.numel());
  }, py::arg("y"), py::arg("a"), py::arg("b"), doc);
}

int64_t rows_for(const Tensor& x, int64_t C, const char* xname, const char* what) {
  NK_CHECK(x.ndim() >= 1, what, ": ", xname, " must have at least 1 dimension, got a 0-d tensor");
  NK_CHECK(x.dim(-1) == C, what, ": the last axis of ", xname, " ", shape_str(x.shape()),
           " must match the bias length ", C);
  return C ? x.numel() / C : 0;
}

}  // namespace

NK_CUDA_BINDING(elementwise) {
  m.def("bias_add_forward", [](Tensor& y, const Tensor& x, const Tensor& b) {
    check_cuda_f32(y, "y"); check_cuda_f32(x, "x"); check_cuda_f32(b, "b");
    check_ndim(b, 1, "b");
    int64_t C = b.dim(0), N = rows_for(x, C, "x", "bias_add_forward");
    check_same_shape(y, "y", x, "x");
    check_same_or_disjoint(y, "y", x, "x");
    check_same_or_disjoint(y, "y", b, "b");
    NK_CHECK(y.raw() != b.raw(), "bias_add_forward: y must not be b");
    py::gil_scoped_release nogil;
    cuda::bias_add_forward(y.data<float>(), x.data<float>(), b.data<float>(), N, C);
  }, py::arg("y"), py::arg("x"), py::arg("b"),
  "y = x + b over the last axis (b has x.shape[-1] entries); y may be x (in place).");

  m.def("bias_add_backward", [](Tensor& db, const Tensor& dy) {
    check_cuda_f32(db, "db"); check_cuda_f32(dy, "dy");
    check_ndim(db, 1, "db");
    int64_t C = db.dim(0), N = rows_for(dy, C, "dy", "bias_add_backward");
    check_same_or_disjoint(db, "db", dy, "dy");
    NK_CHECK(db.raw() != dy.raw() || db.nbytes() == 0, "bias_add_backward: db must not be dy");
    py::gil_scoped_release nogil;
    cuda::bias_add_backward(db.data<float>(), dy.data<float>(), N, C);
  }, py::arg("db"), py::arg("dy"),
  "db += dy summed over every axis but the last (ACCUMULATES: zero db first for a fresh gradient).");

  def_binary<cuda::add>(m, "add", "y = a + b (same shapes; y may be a or b).");
  def_binary<cuda::sub>(m, "sub", "y = a - b (same shapes; y may be a or b).");
  def_binary<cuda::mul>(m, "mul", "y = a * b (same shapes; y may be a or b).");
  def_binary<cuda::div>(m, "div", "y = a / b (same shapes; y may be a or b).");

  m.def("scale", [](Tensor& y, const Tensor& x, float alpha) {
    check_unary(y, x);
    py::gil_scoped_release nogil;
    cuda::scale(y.data<float>(), x.data<float>(), alpha, y.numel());
  }, py::arg("y"), py::arg("x"), py::arg("alpha"), "y = alpha * x (y may be x).");
  m.def("axpy", [](Tensor& y, const Tensor& x, float alpha) {
    check_unary(y, x);
    py::gil_scoped_release nogil;
    cuda::axpy(y.data<float>(), x.data<float>(), alpha, y.numel());
  }, py::arg("y"), py::arg("x"), py::arg("alpha"), "y += alpha * x (in place on y).");
  m.def("fill", [](Tensor& y, float value) {
    check_cuda_f32(y, "y");
    py::gil_scoped_release nogil;
    cuda::fill(y.data<float>(), value, y.numel());
  }, py::arg("y"), py::arg("value"), "y[:] = value.");
  m.def("copy", [](Tensor& y, const Tensor& x) {
    check_unary(y, x);
    py::gil_scoped_release nogil;
    cuda::copy(y.data<float>(), x.data<float>(), y.numel());
  }, py::arg("y"), py::arg("x"), "y[:] = x (same shape).");
  m.def("square", [](Tensor& y, const Tensor& x) {
    check_unary(y, x);
    py::gil_scoped_release nogil;
    cuda::square(y.data<float>(), x.data<float>(), y.numel());
  }, py::arg("y"), py::arg("x"), "y = x * x (y may be x).");
  m.def("sqrt", [](Tensor& y, const Tensor& x) {
    check_unary(y, x);
    py::gil_scoped_release nogil;
    cuda::sqrt(y.data<float>(), x.data<float>(), y.numel());
  }, py::arg("y"), py::arg("x"), "y = sqrt(x) (NaN for x < 0; y may be x).");

  m.def("sum_rows", [](Tensor& out, const Tensor& x) {
    check_cuda_f32(out, "out"); check_cuda_f32(x, "x");
    NK_CHECK(x.ndim() >= 1, "sum_rows: x must have at least 1 dimension, got a 0-d tensor");
    std::vector<int64_t> rest(x.shape().begin() + 1, x.shape().end());
    check_shape(out, rest, "out");
    check_same_or_disjoint(out, "out", x, "x");
    NK_CHECK(out.raw() != x.raw() || out.nbytes() == 0, "sum_rows: out must not be x");
    int64_t N = x.dim(0), C = shape_numel(rest);
    py::gil_scoped_release nogil;
    cuda::sum_rows(out.data<float>(), x.data<float>(), N, C);
  }, py::arg("out"), py::arg("x"), "out = x.sum(axis=0) (overwrites out; sums in double).");

  m.def("sum_all", [](const Tensor& x) {
    check_cuda_f32(x, "x");
    py::gil_scoped_release nogil;
    return cuda::sum_all(x.data<float>(), x.numel());
  }, py::arg("x"), "Sum of every element (partial sums in double, fixed order; waits for the device).");
  m.def("mean_all", [](const Tensor& x) {
    check_cuda_f32(x, "x");
    NK_CHECK(x.numel() > 0, "mean_all: x is empty (mean of no elements)");
    py::gil_scoped_release nogil;
    return cuda::mean_all(x.data<float>(), x.numel());
  }, py::arg("x"), "Mean of every element (partial sums in double; waits for the device).");

  m.def("argmax_rows", [](Tensor& out, const Tensor& x) {
    check_cuda(out, "out"); check_dtype(out, DType::int64, "out");
    check_cuda_f32(x, "x");
    NK_CHECK(x.ndim() >= 1, "argmax_rows: x must have at least 1 dimension, got a 0-d tensor");
    NK_CHECK(x.dim(-1) > 0, "argmax_rows: the last axis of x ", shape_str(x.shape()), " is empty");
    std::vector<int64_t> lead(x.shape().begin(), x.shape().end() - 1);
    check_shape(out, lead, "out");
    int64_t C = x.dim(-1), N = x.numel() / C;
    py::gil_scoped_release nogil;
    cuda::argmax_rows(out.data<int64_t>(), x.data<float>(), N, C);
  }, py::arg("out"), py::arg("x"),
  "out (int64, x.shape[:-1]) = index of the first maximum along the last axis (NaN counts as largest).");
}

}  // namespace nk
