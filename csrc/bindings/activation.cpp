// activation.cpp (bindings) - argument checks for the activation kernels (csrc/cpu/activation.*), then the kernels.
#include "bindings/common.h"

namespace nk {

void bind_activation(py::module_& m) {
}

}  // namespace nk
