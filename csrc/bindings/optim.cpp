// optim.cpp (bindings) - argument checks for the optim kernels (csrc/cpu/optim.*), then the kernels.
#include "bindings/common.h"

namespace nk {

void bind_optim(py::module_& m) {
}

}  // namespace nk
