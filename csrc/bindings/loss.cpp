// loss.cpp (bindings) - argument checks for the loss kernels (csrc/cpu/loss.*), then the kernels.
#include "bindings/common.h"

namespace nk {

void bind_loss(py::module_& m) {
}

}  // namespace nk
