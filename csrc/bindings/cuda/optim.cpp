// optim.cpp (CUDA bindings) - the `_core` optimizer bindings (bindings/optim.cpp) for tensors on
// 'cuda': same names, arguments, defaults and hyper-parameter checks, then cuda/optim.* kernels.
// Every update is in place on w and its state (float32 on 'cuda', the shape of w, no shared
// memory); g is read.
#include <cmath>
#include <initializer_list>
#include <utility>
#include <vector>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/optim.h"

namespace nk {

using cuda::check_cuda_f32;

namespace {

void check_buffers(const char* op, const Tensor& w, const Tensor& g,
                   std::initializer_list<std::pair<const Tensor*, const char*>> state) {
  check_cuda_f32(w, "w");
  check_cuda_f32(g, "g");
  NK_CHECK(g.shape() == w.shape(), op, ": the gradient g has shape ", shape_str(g.shape()),
           " but the variable w has shape ", shape_str(w.shape()));
  std::vector<const void*> seen = {w.raw(), g.raw()};
  NK_CHECK(w.numel() == 0 || w.raw() != g.raw(), op, ": w and g must not share memory");
  for (const auto& [t, name] : state) {
    if (t == nullptr) continue;
    check_cuda_f32(*t, name);
    NK_CHECK(t->shape() == w.shape(), op, ": state ", name, " has shape ", shape_str(t->shape()),
             " but the variable w has shape ", shape_str(w.shape()));
    for (const void* p : seen)
      NK_CHECK(w.numel() == 0 || t->raw() != p, op, ": state ", name,
               " must not share memory with w, g or another state tensor");
    seen.push_back(t->raw());
  }
}

void check_lr(const char* op, float lr) {
  NK_CHECK(std::isfinite(lr) && lr >= 0.0f, op, ": learning_rate must be a finite number >= 0. "
           "Received: learning_rate=", lr);
}
void check_range(const char* op, const char* name, float x, float lo, float hi, bool hi_open) {
  bool ok = std::isfinite(x) && x >= lo && (hi_open ? x < hi : x <= hi);
  NK_CHECK(ok, op, ": ", name, " must be in [", lo, ", ", hi, hi_open ? ")" : "]", ". Received: ", name, "=", x);
}
void check_epsilon(const char* op, float eps) {
  NK_CHECK(std::isfinite(eps) && eps >= 0.0f, op, ": epsilon must be a finite number >= 0. Received: epsilon=", eps);
}

float* ptr(Tensor* t) { return t ? t->data<float>() : nullptr; }

}  // namespace

NK_CUDA_BINDING(optim) {
  m.def("sgd_update",
        [](Tensor& w, Tensor* v, const Tensor& g, float learning_rate, float momentum, bool nesterov) {
          const char* op = "sgd_update";
          check_lr(op, learning_rate);
          check_range(op, "momentum", momentum, 0.0f, 1.0f, false);
          NK_CHECK(momentum == 0.0f || v != nullptr, op, ": momentum=", momentum,
                   " needs the momentum buffer v (pass a zero tensor the shape of w)");
          check_buffers(op, w, g, {{momentum == 0.0f ? nullptr : v, "v"}});
          py::gil_scoped_release nogil;
          cuda::sgd_update(w.data<float>(), momentum == 0.0f ? nullptr : ptr(v), g.data<float>(), w.numel(),
                           learning_rate, momentum, nesterov);
        },
        py::arg("w"), py::arg("v"), py::arg("g"), py::arg("learning_rate") = 0.01f, py::arg("momentum") = 0.0f,
        py::arg("nesterov") = false,
        "Keras SGD, in place: v = momentum*v - lr*g; w += v (nesterov: w += momentum*v - lr*g). "
        "v may be None when momentum == 0.");

  m.def("adagrad_update",
        [](Tensor& w, Tensor& acc, const Tensor& g, float learning_rate, float epsilon) {
          const char* op = "adagrad_update";
          check_lr(op, learning_rate);
          check_epsilon(op, epsilon);
          check_buffers(op, w, g, {{&acc, "accumulator"}});
          py::gil_scoped_release nogil;
          cuda::adagrad_update(w.data<float>(), acc.data<float>(), g.data<float>(), w.numel(), learning_rate,
                               epsilon);
        },
        py::arg("w"), py::arg("accumulator"), py::arg("g"), py::arg("learning_rate") = 0.001f,
        py::arg("epsilon") = 1e-7f, "Keras Adagrad, in place: acc += g^2; w -= lr*g / sqrt(acc + epsilon).");

  m.def("adadelta_update",
        [](Tensor& w, Tensor& acc_grad, Tensor& acc_delta, const Tensor& g, float learning_rate, float rho,
           float epsilon) {
          const char* op = "adadelta_update";
          check_lr(op, learning_rate);
          check_range(op, "rho", rho, 0.0f, 1.0f, false);
          check_epsilon(op, epsilon);
          check_buffers(op, w, g, {{&acc_grad, "accumulated_grad"}, {&acc_delta, "accumulated_delta_var"}});
          py::gil_scoped_release nogil;
          cuda::adadelta_update(w.data<float>(), acc_grad.data<float>(), acc_delta.data<float>(), g.data<float>(),
                                w.numel(), learning_rate, rho, epsilon);
        },
        py::arg("w"), py::arg("accumulated_grad"), py::arg("accumulated_delta_var"), py::arg("g"),
        py::arg("learning_rate") = 0.001f, py::arg("rho") = 0.95f, py::arg("epsilon") = 1e-7f,
        "Keras Adadelta, in place (see csrc/cpu/optim.cpp).");

  m.def("rmsprop_update",
        [](Tensor& w, Tensor& velocity, Tensor* momentum_buf, Tensor* average_grad, const Tensor& g,
           float learning_rate, float rho, float momentum, float epsilon, bool centered) {
          const char* op = "rmsprop_update";
          check_lr(op, learning_rate);
          check_range(op, "rho", rho, 0.0f, 1.0f, false);
          NK_CHECK(std::isfinite(momentum) && momentum >= 0.0f, op, ": momentum must be a finite "
                   "number >= 0. Received: momentum=", momentum);
          check_epsilon(op, epsilon);
          NK_CHECK(momentum == 0.0f || momentum_buf != nullptr, op, ": momentum=", momentum,
                   " needs the momentum buffer (pass a zero tensor the shape of w)");
          NK_CHECK(!centered || average_grad != nullptr, op, ": centered=True needs the average_grad "
                   "buffer (pass a zero tensor the shape of w)");
          Tensor* mom = momentum > 0.0f ? momentum_buf : nullptr;
          Tensor* avg = centered ? average_grad : nullptr;
          check_buffers(op, w, g, {{&velocity, "velocity"}, {mom, "momentum_buffer"}, {avg, "average_grad"}});
          py::gil_scoped_release nogil;
          cuda::rmsprop_update(w.data<float>(), velocity.data<float>(), ptr(mom), ptr(avg), g.data<float>(),
                               w.numel(), learning_rate, rho, momentum, epsilon, centered);
        },
        py::arg("w"), py::arg("velocity"), py::arg("momentum_buffer"), py::arg("average_grad"), py::arg("g"),
        py::arg("learning_rate") = 0.001f, py::arg("rho") = 0.9f, py::arg("momentum") = 0.0f,
        py::arg("epsilon") = 1e-7f, py::arg("centered") = false,
        "Keras RMSprop, in place. momentum_buffer is used when momentum > 0 and average_grad when "
        "centered (either may be None otherwise).");

  m.def("adam_update",
        [](Tensor& w, Tensor& m_buf, Tensor& v_buf, Tensor* v_hat, const Tensor& g, float learning_rate,
           float beta_1, float beta_2, float epsilon, int64_t step, bool amsgrad) {
          const char* op = "adam_update";
          check_lr(op, learning_rate);
          check_range(op, "beta_1", beta_1, 0.0f, 1.0f, true);
          check_range(op, "beta_2", beta_2, 0.0f, 1.0f, true);
          check_epsilon(op, epsilon);
          NK_CHECK(step >= 1, op, ": step is the 1-based update count (iterations + 1). Received: step=", step);
          NK_CHECK(!amsgrad || v_hat != nullptr, op, ": amsgrad=True needs the v_hat buffer "
                   "(pass a zero tensor the shape of w)");
          Tensor* vh = amsgrad ? v_hat : nullptr;
          check_buffers(op, w, g, {{&m_buf, "m"}, {&v_buf, "v"}, {vh, "v_hat"}});
          py::gil_scoped_release nogil;
          cuda::adam_update(w.data<float>(), m_buf.data<float>(), v_buf.data<float>(), ptr(vh), g.data<float>(),
                            w.numel(), learning_rate, beta_1, beta_2, epsilon, step, amsgrad);
        },
        py::arg("w"), py::arg("m"), py::arg("v"), py::arg("v_hat"), py::arg("g"), py::arg("learning_rate") = 0.001f,
        py::arg("beta_1") = 0.9f, py::arg("beta_2") = 0.999f, py::arg("epsilon") = 1e-7f, py::arg("step") = 1,
        py::arg("amsgrad") = false,
        "Keras Adam, in place: alpha = lr*sqrt(1-beta_2^step)/(1-beta_1^step); "
        "m += (g-m)(1-beta_1); v += (g^2-v)(1-beta_2); w -= alpha*m/(sqrt(v)+epsilon). "
        "v_hat (amsgrad only) may be None.");

  m.def("optim_variants", [] {
    py::list out;
    out.append(py::make_tuple("elementwise", "cuda", "one thread per element, grid-stride (cuda/optim.cu)"));
    return out;
  }, "Registered optimizer-update variants as (name, isa, description): one on CUDA.");
}

}  // namespace nk
