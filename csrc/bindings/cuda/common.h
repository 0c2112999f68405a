// common.h - shared by the CUDA binding files (csrc/bindings/cuda/<family>.cpp). Bindings check their
// arguments with these helpers, then call the host API of csrc/cuda/<family>.h: no math here.
//
//   NK_CUDA_BINDING(activation) {
//     m.def("relu_forward", [](Tensor& y, const Tensor& x) {
//       check_cuda_f32(y, "y");
//       check_cuda_f32(x, "x");
//       check_same_shape(y, "y", x, "x");
//       relu_forward(y.data<float>(), x.data<float>(), x.numel());
//     }, py::arg("y"), py::arg("x"));
//   }
//
// nk::Tensor has no strides, so every tensor is contiguous: the checks are device, dtype and shape.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/cuda/registry.h"
#include "core/errors.h"
#include "core/tensor.h"
#include "cuda/runtime.h"

namespace py = pybind11;

namespace nk::cuda {

// True when `t` is a 'cuda' tensor whose memory belongs to THIS module (_cuda or _cuda_emu): allocated by
// its device_alloc or wrapped by its wrap(). A tensor of the other module (e.g. made before
// nk.cuda.use_emulator()) is not ours: its pointer means nothing to our kernels.
bool owns(const Tensor& t);

// New device tensors (caching allocator; freed when the last Tensor sharing the storage goes).
Tensor device_empty(const std::vector<int64_t>& shape, DType dtype);
Tensor device_zeros(const std::vector<int64_t>& shape, DType dtype);

// `name` must be a 'cuda' tensor of this module: throws ValueError saying how to move it otherwise.
void check_cuda(const Tensor& t, const char* name);

inline void check_cuda_dtype(const Tensor& t, DType dtype, const char* name) {
  check_cuda(t, name);
  check_dtype(t, dtype, name);
}

// The common case: a float32 device tensor.
inline void check_cuda_f32(const Tensor& t, const char* name) { check_cuda_dtype(t, DType::float32, name); }

// Integer labels / indices: int32 or int64 on the device.
inline void check_cuda_index(const Tensor& t, const char* name) {
  check_cuda(t, name);
  NK_CHECK_TYPE(t.dtype() == DType::int32 || t.dtype() == DType::int64, name,
                " must have dtype int32 or int64, got ", dtype_name(t.dtype()));
}

}  // namespace nk::cuda
