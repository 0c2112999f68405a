// elementwise.cpp (bindings) - argument checks for the elementwise kernels (csrc/cpu/elementwise.*), then the kernels.
#include "bindings/common.h"

namespace nk {

void bind_elementwise(py::module_& m) {
}

}  // namespace nk
