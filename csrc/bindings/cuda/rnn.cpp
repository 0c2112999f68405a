// rnn.cpp (CUDA bindings) - argument checks for the CUDA SimpleRNN kernels (csrc/cuda/rnn.*), then the
// kernel: the same names and argument lists as the CPU binding (csrc/bindings/rnn.cpp).
//   rnn_forward(h_seq, h_last, x, h0, mask, kernel, recurrent_kernel, bias, activation, variant)
//   rnn_backward(dx, dh0, dkernel, drecurrent_kernel, dbias, dh_seq, dh_last, h_seq, x, h0, mask,
//                kernel, recurrent_kernel, activation, variant)
// mask, bias, dbias, dx, dh_seq, dh_last may be None.
#include <string>

#include "bindings/cuda/common.h"
#include "bindings/cuda/recurrent_common.h"
#include "bindings/cuda/registry.h"
#include "cuda/rnn.h"

namespace nk {

using namespace cuda_recurrent_bind;
using cuda::check_cuda_f32;

namespace {

struct RnnDims { int64_t N, T, F, U; };

RnnDims rnn_dims(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel) {
  check_sequence_input(x, "simple_rnn");
  check_cuda_f32(kernel, "kernel");
  check_cuda_f32(recurrent_kernel, "recurrent_kernel");
  check_ndim(kernel, 2, "kernel");
  const int64_t F = x.dim(2);
  NK_CHECK(kernel.dim(0) == F && kernel.dim(1) > 0, "simple_rnn: kernel must have shape (features, units) with "
           "features = ", F, ", got ", shape_str(kernel.shape()));
  const int64_t U = kernel.dim(1);
  check_shape(recurrent_kernel, {U, U}, "recurrent_kernel");
  return {x.dim(0), x.dim(1), F, U};
}

}  // namespace

NK_CUDA_BINDING(rnn) {
  m.def("rnn_forward",
        [](Tensor& h_seq, Tensor& h_last, const Tensor& x, const Tensor& h0, const Tensor* mask,
           const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor* bias, const std::string& activation,
           const std::string& variant) {
          auto d = rnn_dims(x, kernel, recurrent_kernel);
          const int64_t N = d.N, T = d.T, U = d.U;
          check_opt(bias, {U}, "bias");
          check_opt(&h0, {N, U}, "initial state h0");
          check_opt(&h_seq, {N, T, U}, "h_seq");
          check_opt(&h_last, {N, U}, "h_last");
          check_disjoint({{&h_seq, "h_seq"}, {&h_last, "h_last"}},
                         {{&h_seq, "h_seq"}, {&h_last, "h_last"}, {&x, "x"}, {&h0, "h0"}, {&kernel, "kernel"},
                          {&recurrent_kernel, "recurrent_kernel"}, {bias, "bias"}});
          const auto a = recurrent_act(activation, "activation");
          cuda::recurrent::use_fused("rnn", variant.c_str());
          MaskBytes mb(mask, N, T, "simple_rnn");
          const float* b = bias ? bias->data<float>() : nullptr;
          py::gil_scoped_release nogil;
          cuda::rnn_forward(h_seq.data<float>(), h_last.data<float>(), x.data<float>(), h0.data<float>(), mb.get(),
                            kernel.data<float>(), recurrent_kernel.data<float>(), b, N, T, d.F, U, a,
                            variant.c_str());
        },
        py::arg("h_seq"), py::arg("h_last"), py::arg("x"), py::arg("h0"), py::arg("mask").none(true),
        py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias").none(true),
        py::arg("activation") = "tanh", py::arg("variant") = "auto",
        "SimpleRNN over a whole sequence on the GPU (Keras layout); see csrc/cuda/rnn.h.");

  m.def("rnn_backward",
        [](Tensor* dx, Tensor& dh0, Tensor& dkernel, Tensor& drecurrent_kernel, Tensor* dbias, const Tensor* dh_seq,
           const Tensor* dh_last, const Tensor& h_seq, const Tensor& x, const Tensor& h0, const Tensor* mask,
           const Tensor& kernel, const Tensor& recurrent_kernel, const std::string& activation,
           const std::string& variant) {
          auto d = rnn_dims(x, kernel, recurrent_kernel);
          const int64_t N = d.N, T = d.T, F = d.F, U = d.U;
          check_opt(dx, {N, T, F}, "dx");
          check_opt(&dh0, {N, U}, "dh0");
          check_opt(&dkernel, {F, U}, "dkernel");
          check_opt(&drecurrent_kernel, {U, U}, "drecurrent_kernel");
          check_opt(dbias, {U}, "dbias");
          check_opt(dh_seq, {N, T, U}, "dh_seq");
          check_opt(dh_last, {N, U}, "dh_last");
          check_opt(&h_seq, {N, T, U}, "h_seq");
          check_opt(&h0, {N, U}, "initial state h0");
          check_disjoint({{dx, "dx"}, {&dh0, "dh0"}, {&dkernel, "dkernel"}, {&drecurrent_kernel, "drecurrent_kernel"},
                          {dbias, "dbias"}},
                         {{dx, "dx"}, {&dh0, "dh0"}, {&dkernel, "dkernel"}, {&drecurrent_kernel, "drecurrent_kernel"},
                          {dbias, "dbias"}, {dh_seq, "dh_seq"}, {dh_last, "dh_last"}, {&h_seq, "h_seq"}, {&x, "x"},
                          {&h0, "h0"}, {&kernel, "kernel"}, {&recurrent_kernel, "recurrent_kernel"}});
          const auto a = recurrent_act(activation, "activation");
          cuda::recurrent::use_fused("rnn", variant.c_str());
          MaskBytes mb(mask, N, T, "simple_rnn");
          auto p = [](const Tensor* t) { return t ? t->data<float>() : nullptr; };
          py::gil_scoped_release nogil;
          cuda::rnn_backward(p(dx), dh0.data<float>(), dkernel.data<float>(), drecurrent_kernel.data<float>(),
                             p(dbias), p(dh_seq), p(dh_last), h_seq.data<float>(), x.data<float>(), h0.data<float>(),
                             mb.get(), kernel.data<float>(), recurrent_kernel.data<float>(), N, T, F, U, a,
                             variant.c_str());
        },
        py::arg("dx").none(true), py::arg("dh0"), py::arg("dkernel"), py::arg("drecurrent_kernel"),
        py::arg("dbias").none(true), py::arg("dh_seq").none(true), py::arg("dh_last").none(true),
        py::arg("h_seq"), py::arg("x"), py::arg("h0"), py::arg("mask").none(true), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("activation") = "tanh", py::arg("variant") = "auto",
        "SimpleRNN backward through time on the GPU: dx, dh0 overwritten; dkernel, drecurrent_kernel, dbias "
        "accumulated.");

  m.def("rnn_variants", [] {
    py::list out;
    for (const auto& v : cuda::rnn_variants()) out.append(py::make_tuple(v.name, v.description));
    return out;
  }, "Registered CUDA SimpleRNN variants as (name, description), reference first.");
}

}  // namespace nk
