// lstm.cpp (CUDA bindings) - argument checks for the CUDA LSTM kernels (csrc/cuda/lstm.*), then the
// kernel: the same names and argument lists as the CPU binding (csrc/bindings/lstm.cpp).
//   lstm_forward(h_seq, h_last, c_last, gates, c_seq, x, h0, c0, mask, kernel, recurrent_kernel, bias,
//                activation, recurrent_activation, variant)
//   lstm_backward(dx, dh0, dc0, dkernel, drecurrent_kernel, dbias, dh_seq, dh_last, dc_last, gates,
//                 c_seq, h_seq, x, h0, c0, mask, kernel, recurrent_kernel, activation,
//                 recurrent_activation, variant)
// mask, bias, dbias, dx, dh_seq, dh_last, dc_last may be None; gates=None in lstm_forward is inference. The mask is an (N, T) device tensor of
// any dtype; nonzero = step active. The recurrent helpers below are shared with bindings/cuda/rnn.cpp.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/cuda/common.h"
#include "bindings/cuda/recurrent_common.h"
#include "bindings/cuda/registry.h"
#include "cuda/lstm.h"
#include "cuda/runtime.h"

namespace nk {

namespace cuda_recurrent_bind {

void check_disjoint(const std::vector<std::pair<const Tensor*, const char*>>& outs,
                    const std::vector<std::pair<const Tensor*, const char*>>& all) {
  for (const auto& o : outs) {
    if (!o.first || o.first->nbytes() == 0) continue;
    auto* ob = static_cast<const char*>(o.first->raw());
    for (const auto& a : all) {
      // skip the output's own slot (by name: the same tensor passed for two slots must still fail)
      if (!a.first || std::strcmp(a.second, o.second) == 0 || a.first->nbytes() == 0) continue;
      auto* ab = static_cast<const char*>(a.first->raw());
      NK_CHECK(ob + o.first->nbytes() <= ab || ab + a.first->nbytes() <= ob, o.second,
               " must not share memory with ", a.second);
    }
  }
}

void check_sequence_input(const Tensor& x, const char* op) {
  check_cuda_f32(x, "x");
  NK_CHECK(x.ndim() == 3, op, ": x must be 3-d (batch, timesteps, features), got shape ", shape_str(x.shape()));
  NK_CHECK(x.dim(1) >= 1, op, ": x has 0 timesteps (shape ", shape_str(x.shape()),
           "): a recurrent layer needs sequences of length >= 1");
}

void check_opt(const Tensor* t, const std::vector<int64_t>& shape, const char* name) {
  if (!t) return;
  check_cuda_f32(*t, name);
  check_shape(*t, shape, name);
}

cuda::RecurrentAct recurrent_act(const std::string& name, const char* what) {
  if (name == "tanh") return cuda::RecurrentAct::tanh;
  if (name == "sigmoid") return cuda::RecurrentAct::sigmoid;
  if (name == "relu") return cuda::RecurrentAct::relu;
  if (name == "linear") return cuda::RecurrentAct::linear;
  throw std::invalid_argument(msg(what, " must be one of 'tanh', 'sigmoid', 'relu', 'linear' (the backward "
                                  "needs f' from the output), got '", name, "'"));
}

MaskBytes::MaskBytes(const Tensor* mask, int64_t N, int64_t T, const char* op) {
  if (!mask) return;
  cuda::check_cuda(*mask, "mask");  // any dtype
  NK_CHECK(mask->shape() == std::vector<int64_t>({N, T}), op, ": mask must have shape (batch, timesteps) = (", N,
           ", ", T, "), got ", shape_str(mask->shape()));
  cuda::recurrent::check_int32(op, {N * T});
  if (N * T == 0) return;
  bytes_ = static_cast<uint8_t*>(cuda::device_alloc(static_cast<size_t>(N * T)));
  try {
    cuda::recurrent::mask_to_bytes(bytes_, mask->raw(), static_cast<int>(mask->dtype()), N * T);
  } catch (...) {
    cuda::device_free(bytes_);
    throw;
  }
}

MaskBytes::~MaskBytes() {
  if (bytes_) cuda::device_free(bytes_);
}

}  // namespace cuda_recurrent_bind

using namespace cuda_recurrent_bind;

namespace {

struct LstmDims { int64_t N, T, F, U; };

LstmDims lstm_dims(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel) {
  check_sequence_input(x, "lstm");
  check_cuda_f32(kernel, "kernel");
  check_cuda_f32(recurrent_kernel, "recurrent_kernel");
  check_ndim(kernel, 2, "kernel");
  const int64_t N = x.dim(0), T = x.dim(1), F = x.dim(2);
  NK_CHECK(kernel.dim(0) == F && kernel.dim(1) % 4 == 0 && kernel.dim(1) > 0,
           "lstm: kernel must have shape (features, 4 * units) with features = ", F, ", got ",
           shape_str(kernel.shape()));
  const int64_t U = kernel.dim(1) / 4;
  check_shape(recurrent_kernel, {U, 4 * U}, "recurrent_kernel");
  return {N, T, F, U};
}

}  // namespace

NK_CUDA_BINDING(lstm) {
  m.def("lstm_forward",
        [](Tensor& h_seq, Tensor& h_last, Tensor& c_last, Tensor* gates, Tensor& c_seq, const Tensor& x,
           const Tensor& h0, const Tensor& c0, const Tensor* mask, const Tensor& kernel,
           const Tensor& recurrent_kernel, const Tensor* bias, const std::string& activation,
           const std::string& recurrent_activation, const std::string& variant) {
          auto d = lstm_dims(x, kernel, recurrent_kernel);
          const int64_t N = d.N, T = d.T, U = d.U;
          check_opt(bias, {4 * U}, "bias");
          check_opt(&h0, {N, U}, "initial state h0");
          check_opt(&c0, {N, U}, "initial state c0");
          check_opt(&h_seq, {N, T, U}, "h_seq");
          check_opt(&h_last, {N, U}, "h_last");
          check_opt(&c_last, {N, U}, "c_last");
          check_opt(gates, {N, T, 4 * U}, "gates");
          check_opt(&c_seq, {N, T, U}, "c_seq");
          check_disjoint({{&h_seq, "h_seq"}, {&h_last, "h_last"}, {&c_last, "c_last"}, {gates, "gates"},
                          {&c_seq, "c_seq"}},
                         {{&h_seq, "h_seq"}, {&h_last, "h_last"}, {&c_last, "c_last"}, {gates, "gates"},
                          {&c_seq, "c_seq"}, {&x, "x"}, {&h0, "h0"}, {&c0, "c0"}, {&kernel, "kernel"},
                          {&recurrent_kernel, "recurrent_kernel"}, {bias, "bias"}});
          const auto a = recurrent_act(activation, "activation");
          const auto ra = recurrent_act(recurrent_activation, "recurrent_activation");
          cuda::recurrent::use_fused("lstm", variant.c_str());  // a bad name fails before any work
          MaskBytes mb(mask, N, T, "lstm");
          const float* b = bias ? bias->data<float>() : nullptr;
          // inference (gates=None): the kernels still write gates, into a scratch freed on return
          const size_t gate_bytes = static_cast<size_t>(N * T * 4 * U) * sizeof(float);
          cuda::Buffer scratch = gates ? cuda::Buffer() : cuda::Buffer(gate_bytes);
          float* g = gates ? gates->data<float>() : static_cast<float*>(scratch.get());
          py::gil_scoped_release nogil;
          cuda::lstm_forward(h_seq.data<float>(), h_last.data<float>(), c_last.data<float>(), g,
                             c_seq.data<float>(), x.data<float>(), h0.data<float>(), c0.data<float>(), mb.get(),
                             kernel.data<float>(), recurrent_kernel.data<float>(), b, N, T, d.F, U, a, ra,
                             variant.c_str());
        },
        py::arg("h_seq"), py::arg("h_last"), py::arg("c_last"), py::arg("gates").none(true), py::arg("c_seq"),
        py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("mask").none(true), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias").none(true), py::arg("activation") = "tanh",
        py::arg("recurrent_activation") = "sigmoid", py::arg("variant") = "auto",
        "LSTM over a whole sequence on the GPU (Keras layout and gate order i, f, c, o); see csrc/cuda/lstm.h.");

  m.def("lstm_backward",
        [](Tensor* dx, Tensor& dh0, Tensor& dc0, Tensor& dkernel, Tensor& drecurrent_kernel, Tensor* dbias,
           const Tensor* dh_seq, const Tensor* dh_last, const Tensor* dc_last, const Tensor& gates,
           const Tensor& c_seq, const Tensor& h_seq, const Tensor& x, const Tensor& h0, const Tensor& c0,
           const Tensor* mask, const Tensor& kernel, const Tensor& recurrent_kernel,
           const std::string& activation, const std::string& recurrent_activation, const std::string& variant) {
          auto d = lstm_dims(x, kernel, recurrent_kernel);
          const int64_t N = d.N, T = d.T, F = d.F, U = d.U;
          check_opt(dx, {N, T, F}, "dx");
          check_opt(&dh0, {N, U}, "dh0");
          check_opt(&dc0, {N, U}, "dc0");
          check_opt(&dkernel, {F, 4 * U}, "dkernel");
          check_opt(&drecurrent_kernel, {U, 4 * U}, "drecurrent_kernel");
          check_opt(dbias, {4 * U}, "dbias");
          check_opt(dh_seq, {N, T, U}, "dh_seq");
          check_opt(dh_last, {N, U}, "dh_last");
          check_opt(dc_last, {N, U}, "dc_last");
          check_opt(&gates, {N, T, 4 * U}, "gates");
          check_opt(&c_seq, {N, T, U}, "c_seq");
          check_opt(&h_seq, {N, T, U}, "h_seq");
          check_opt(&h0, {N, U}, "initial state h0");
          check_opt(&c0, {N, U}, "initial state c0");
          check_disjoint({{dx, "dx"}, {&dh0, "dh0"}, {&dc0, "dc0"}, {&dkernel, "dkernel"},
                          {&drecurrent_kernel, "drecurrent_kernel"}, {dbias, "dbias"}},
                         {{dx, "dx"}, {&dh0, "dh0"}, {&dc0, "dc0"}, {&dkernel, "dkernel"},
                          {&drecurrent_kernel, "drecurrent_kernel"}, {dbias, "dbias"}, {dh_seq, "dh_seq"},
                          {dh_last, "dh_last"}, {dc_last, "dc_last"}, {&gates, "gates"}, {&c_seq, "c_seq"},
                          {&h_seq, "h_seq"}, {&x, "x"}, {&h0, "h0"}, {&c0, "c0"}, {&kernel, "kernel"},
                          {&recurrent_kernel, "recurrent_kernel"}});
          const auto a = recurrent_act(activation, "activation");
          const auto ra = recurrent_act(recurrent_activation, "recurrent_activation");
          cuda::recurrent::use_fused("lstm", variant.c_str());
          MaskBytes mb(mask, N, T, "lstm");
          auto p = [](const Tensor* t) { return t ? t->data<float>() : nullptr; };
          py::gil_scoped_release nogil;
          cuda::lstm_backward(p(dx), dh0.data<float>(), dc0.data<float>(), dkernel.data<float>(),
                              drecurrent_kernel.data<float>(), p(dbias), p(dh_seq), p(dh_last), p(dc_last),
                              gates.data<float>(), c_seq.data<float>(), h_seq.data<float>(), x.data<float>(),
                              h0.data<float>(), c0.data<float>(), mb.get(), kernel.data<float>(),
                              recurrent_kernel.data<float>(), N, T, F, U, a, ra, variant.c_str());
        },
        py::arg("dx").none(true), py::arg("dh0"), py::arg("dc0"), py::arg("dkernel"),
        py::arg("drecurrent_kernel"), py::arg("dbias").none(true), py::arg("dh_seq").none(true),
        py::arg("dh_last").none(true), py::arg("dc_last").none(true), py::arg("gates"), py::arg("c_seq"),
        py::arg("h_seq"), py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("mask").none(true),
        py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("activation") = "tanh",
        py::arg("recurrent_activation") = "sigmoid", py::arg("variant") = "auto",
        "LSTM backward through time on the GPU: dx, dh0, dc0 overwritten; dkernel, drecurrent_kernel, dbias "
        "accumulated (+=).");

  m.def("lstm_variants", [] {
    py::list out;
    for (const auto& v : cuda::lstm_variants()) out.append(py::make_tuple(v.name, v.description));
    return out;
  }, "Registered CUDA LSTM variants as (name, description), reference first.");
}

}  // namespace nk
