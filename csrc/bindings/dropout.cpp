// dropout.cpp (bindings) - argument checks for the dropout kernels (csrc/cpu/dropout.*), then the kernels.
#include "bindings/common.h"

namespace nk {

void bind_dropout(py::module_& m) {
}

}  // namespace nk
