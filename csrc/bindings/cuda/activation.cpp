// activation.cpp (CUDA bindings) - the _core activation API (bindings/activation.cpp) on device
// tensors: same names, arguments, defaults and messages; kernels in csrc/cuda/activation.cu.
//   activation_forward(y, x, name, alpha=None)              y = f(x)
//   activation_backward(dx, dy, x, y, name, alpha=None)     dx = dy * f'
//   <name>_forward(y, x[, alpha]) / <name>_backward(dx, dy, x_or_y[, alpha])
//   activation_names(), activation_info()
#include <cmath>
#include <optional>
#include <string>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cpu/activation.h"  // activation_table(), activation_index(): the shared name table
#include "cuda/activation.h"

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

float resolve_alpha(const ActivationInfo& info, std::optional<double> alpha) {
  if (!info.has_alpha) {
    NK_CHECK(!alpha.has_value(), "activation '", info.name, "' takes no alpha; got alpha=", *alpha);
    return 0.0f;
  }
  if (!alpha.has_value()) return info.default_alpha;
  NK_CHECK(std::isfinite(*alpha), "activation '", info.name, "': alpha must be a finite number, got ", *alpha);
  return static_cast<float>(*alpha);
}

int64_t row_length(const ActivationInfo& info, const Tensor& x) {
  if (!info.rowwise) return 1;
  NK_CHECK(x.ndim() >= 1, info.name, " needs at least 1 dimension (it normalises the last axis), got a 0-d tensor");
  return x.dim(-1);
}

void forward_impl(int index, Tensor& y, const Tensor& x, std::optional<double> alpha) {
  const auto& info = activation_table()[index];
  check_cuda_f32(y, "y"); check_cuda_f32(x, "x");
  check_same_shape(y, "y", x, "x");
  check_same_or_disjoint(y, "y", x, "x");
  float a = resolve_alpha(info, alpha);
  int64_t C = row_length(info, x);
  if (x.numel() == 0) return;
  py::gil_scoped_release nogil;
  cuda::activation_forward(index, y.data<float>(), x.data<float>(), x.numel(), C, a);
}

void backward_impl(int index, Tensor& dx, const Tensor& dy, const Tensor* x, const Tensor* y,
                   std::optional<double> alpha) {
  const auto& info = activation_table()[index];
  check_cuda_f32(dx, "dx"); check_cuda_f32(dy, "dy");
  check_same_shape(dx, "dx", dy, "dy");
  check_same_or_disjoint(dx, "dx", dy, "dy");
  const Tensor* saved = info.takes_output ? y : x;
  const char* sname = info.takes_output ? "y" : "x";
  NK_CHECK(saved != nullptr, info.name, "_backward needs the saved forward ",
           info.takes_output ? "output y" : "input x", " (got None)");
  check_cuda_f32(*saved, sname);
  check_same_shape(*saved, sname, dy, "dy");
  check_same_or_disjoint(dx, "dx", *saved, sname);
  float a = resolve_alpha(info, alpha);
  int64_t C = row_length(info, dy);
  if (dy.numel() == 0) return;
  const float* xp = info.takes_output ? nullptr : saved->data<float>();
  const float* yp = info.takes_output ? saved->data<float>() : nullptr;
  py::gil_scoped_release nogil;
  cuda::activation_backward(index, dx.data<float>(), dy.data<float>(), xp, yp, dy.numel(), C, a);
}

}  // namespace

NK_CUDA_BINDING(activation) {
  m.def("activation_names", [] {
    py::list out;
    for (const auto& a : activation_table()) out.append(a.name);
    return out;
  }, "Names accepted by activation_forward/backward ('swish' is also accepted for 'silu').");
  m.def("activation_info", [] {
    py::list out;
    for (const auto& a : activation_table())
      out.append(py::dict(py::arg("name") = a.name, py::arg("backward_uses") = a.takes_output ? "y" : "x",
                          py::arg("has_alpha") = a.has_alpha, py::arg("default_alpha") = a.default_alpha,
                          py::arg("rowwise") = a.rowwise, py::arg("formula") = a.formula));
    return out;
  }, "One dict per activation: name, backward_uses ('x' or 'y'), has_alpha, default_alpha, rowwise, formula.");

  m.def("activation_forward",
        [](Tensor& y, const Tensor& x, const std::string& name, std::optional<double> alpha) {
          forward_impl(activation_index(name), y, x, alpha);
        },
        py::arg("y"), py::arg("x"), py::arg("name"), py::arg("alpha") = py::none(),
        "y = f(x) for the activation `name` (float32 device tensors, same shape; y may be x). Row-wise "
        "ones (softmax, log_softmax) act over the last axis. alpha=None takes the activation's default.");
  m.def("activation_backward",
        [](Tensor& dx, const Tensor& dy, const Tensor* x, const Tensor* y, const std::string& name,
           std::optional<double> alpha) {
          backward_impl(activation_index(name), dx, dy, x, y, alpha);
        },
        py::arg("dx"), py::arg("dy"), py::arg("x").none(true), py::arg("y").none(true), py::arg("name"),
        py::arg("alpha") = py::none(),
        "dx = dy * f' (overwrites dx). Pass the saved forward input x and/or output y; sigmoid, tanh, "
        "softmax and log_softmax read y, the others x (the unused one may be None).");

  const auto& table = activation_table();
  for (int i = 0; i < static_cast<int>(table.size()); ++i) {
    const auto& info = table[i];
    std::string fname = std::string(info.name) + "_forward", bname = std::string(info.name) + "_backward";
    const char* saved = info.takes_output ? "y" : "x";
    if (info.has_alpha) {
      m.def(fname.c_str(), [i](Tensor& y, const Tensor& x, std::optional<double> alpha) {
              forward_impl(i, y, x, alpha);
            }, py::arg("y"), py::arg("x"), py::arg("alpha") = py::none(), info.formula);
      m.def(bname.c_str(), [i](Tensor& dx, const Tensor& dy, const Tensor& s, std::optional<double> alpha) {
              backward_impl(i, dx, dy, &s, &s, alpha);
            }, py::arg("dx"), py::arg("dy"), py::arg(saved), py::arg("alpha") = py::none());
    } else {
      m.def(fname.c_str(), [i](Tensor& y, const Tensor& x) { forward_impl(i, y, x, std::nullopt); },
            py::arg("y"), py::arg("x"), info.formula);
      m.def(bname.c_str(), [i](Tensor& dx, const Tensor& dy, const Tensor& s) {
              backward_impl(i, dx, dy, &s, &s, std::nullopt);
            }, py::arg("dx"), py::arg("dy"), py::arg(saved));
    }
  }
}

}  // namespace nk
