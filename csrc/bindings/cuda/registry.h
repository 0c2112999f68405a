// registry.h - how a CUDA binding file joins the _cuda / _cuda_emu module without editing a shared list.
//
//   #include "bindings/cuda/registry.h"
//   NK_CUDA_BINDING(activation) {        // a function taking `py::module_& m`, registered at load time
//     m.def("relu_forward", ...);
//   }
//
// module.cpp calls nk::cuda::run_bindings(m) once, which runs every registered function. Registration
// happens in static initialisers of the binding object files, which are linked straight into the module
// (not through an archive), so none is dropped by the linker.
#pragma once
#include <pybind11/pybind11.h>

#include <vector>

namespace py = pybind11;

namespace nk::cuda {

using BindingFn = void (*)(py::module_&);

// One list for the whole module: a function-local static, so it exists before any registrar runs.
inline std::vector<BindingFn>& binding_registry() {
  static std::vector<BindingFn> fns;
  return fns;
}

struct BindingRegistrar {
  explicit BindingRegistrar(BindingFn fn) { binding_registry().push_back(fn); }
};

inline void run_bindings(py::module_& m) {
  for (BindingFn fn : binding_registry()) fn(m);
}

}  // namespace nk::cuda

#define NK_CUDA_BINDING(family)                                                          \
  static void nk_cuda_bind_##family(::pybind11::module_& m);                             \
  static const ::nk::cuda::BindingRegistrar nk_cuda_registrar_##family{&nk_cuda_bind_##family}; \
  static void nk_cuda_bind_##family(::pybind11::module_& m)
