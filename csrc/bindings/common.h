// common.h - shared by the binding files. Bindings check arguments and call kernels: no math here.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/tensor.h"

namespace py = pybind11;

namespace nk {
// One function per op family; module.cpp calls each. A family adds itself here and in module.cpp.
void bind_tensor(py::module_& m);
void bind_gemm(py::module_& m);
void bind_activation(py::module_& m);
void bind_elementwise(py::module_& m);
void bind_loss(py::module_& m);
void bind_optim(py::module_& m);
void bind_dropout(py::module_& m);
void bind_pool(py::module_& m);
void bind_upsample(py::module_& m);
void bind_batchnorm(py::module_& m);
void bind_pad(py::module_& m);
void bind_lstm(py::module_& m);
void bind_rnn(py::module_& m);
void bind_embedding(py::module_& m);
void bind_conv(py::module_& m);
void bind_image(py::module_& m);

// Checks for a float32 CPU tensor argument (the common case).
inline void check_f32(const Tensor& t, const char* name) {
  check_cpu(t, name);
  check_dtype(t, DType::float32, name);
}
}  // namespace nk
