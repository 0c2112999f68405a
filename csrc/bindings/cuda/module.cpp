// module.cpp - the CUDA extension module: neurokern._cuda (nvcc build) or neurokern._cuda_emu (the same
// kernel source run on the CPU emulator, built with -DNK_EMU). Every binding file registers itself with
// NK_CUDA_BINDING (registry.h); this file only defines the module and runs them.
#include "bindings/cuda/registry.h"
#include "core/errors.h"

namespace {
void init_module(py::module_& m) {
#ifdef NK_EMU
  m.doc() = "neurokern's CUDA kernels run on the CPU emulator (private; use neurokern.cuda)";
#else
  m.doc() = "neurokern's CUDA kernels (private; use neurokern.cuda)";
#endif
  m.attr("__version__") = NEUROKERN_VERSION;
  py::register_local_exception<nk::TypeError>(m, "TypeError", PyExc_TypeError);
  nk::cuda::run_bindings(m);
}
}  // namespace

#ifdef NK_EMU
PYBIND11_MODULE(_cuda_emu, m) { init_module(m); }
#else
PYBIND11_MODULE(_cuda, m) { init_module(m); }
#endif
