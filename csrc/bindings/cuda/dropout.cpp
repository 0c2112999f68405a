// dropout.cpp (CUDA bindings) - the _core dropout API (bindings/dropout.cpp) on device tensors; the
// mask is the CPU's bit for bit (csrc/cuda/dropout.cu).
#include <array>
#include <cmath>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cpu/dropout.h"  // dropout_threshold: the one definition of the keep threshold
#include "cuda/dropout.h"

namespace nk {

using cuda::check_cuda;
using cuda::check_cuda_f32;

namespace {

float check_rate(double rate) {
  NK_CHECK(std::isfinite(rate) && rate >= 0.0 && rate < 1.0,
           "dropout rate must be a number in [0, 1), got ", rate);
  float r = static_cast<float>(rate);
  NK_CHECK(r < 1.0f, "dropout rate ", rate, " rounds to 1 in float32: use a rate below 1 - 6e-8");
  return r;
}

void check_offset(uint64_t offset) {
  NK_CHECK(offset % 4 == 0, "dropout offset must be a multiple of 4 (one Philox block), got ", offset);
}

void check_pair(const Tensor& out, const char* on, const Tensor& in, const char* in_name) {
  check_cuda_f32(out, on); check_cuda_f32(in, in_name);
  check_same_shape(out, on, in, in_name);
  auto po = static_cast<const char*>(out.raw()), pi = static_cast<const char*>(in.raw());
  bool ok = po == pi || out.nbytes() == 0 || po + out.nbytes() <= pi || pi + in.nbytes() <= po;
  NK_CHECK(ok, on, " and ", in_name, " overlap partially: pass the same tensor (in place) or separate ones");
}

}  // namespace

NK_CUDA_BINDING(dropout) {
  m.def("dropout_forward", [](Tensor& y, const Tensor& x, double rate, uint64_t seed, uint64_t offset) {
    check_pair(y, "y", x, "x");
    float r = check_rate(rate);
    check_offset(offset);
    py::gil_scoped_release nogil;
    cuda::dropout_forward(y.data<float>(), x.data<float>(), x.numel(), r, seed, offset);
  }, py::arg("y"), py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("offset") = 0,
  "y = keep ? x / (1 - rate) : 0 with keep(i) from Philox4x32-10(seed, offset + i); y may be x. "
  "The same mask as the CPU kernel.");
  m.def("dropout_backward", [](Tensor& dx, const Tensor& dy, double rate, uint64_t seed, uint64_t offset) {
    check_pair(dx, "dx", dy, "dy");
    float r = check_rate(rate);
    check_offset(offset);
    py::gil_scoped_release nogil;
    cuda::dropout_backward(dx.data<float>(), dy.data<float>(), dy.numel(), r, seed, offset);
  }, py::arg("dx"), py::arg("dy"), py::arg("rate"), py::arg("seed"), py::arg("offset") = 0,
  "dx = keep ? dy / (1 - rate) : 0, the forward's mask recomputed from (seed, i); overwrites dx.");
  m.def("philox4x32_10", [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
    uint32_t out[4];
    cuda::philox4x32_10_on_device(out, ctr.data(), key.data());
    return py::make_tuple(out[0], out[1], out[2], out[3]);
  }, py::arg("counter"), py::arg("key"),
  "The four 32-bit outputs of the DEVICE Philox4x32-10 for a 4-word counter and 2-word key (for tests).");
  m.def("dropout_threshold", &dropout_threshold, py::arg("rate"),
        "Element i is kept when its Philox word >= this (floor(rate * 2^32)).");
}

}  // namespace nk
