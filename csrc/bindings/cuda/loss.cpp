// loss.cpp (CUDA bindings) - the `_core` loss bindings (bindings/loss.cpp) for tensors on 'cuda':
// the same names, arguments, defaults and checks, then the kernels of cuda/loss.*. Shapes: y_true /
// y_pred float32, same shape, rank >= 1, last axis D (or C); forward returns the mean loss and
// fills `out` (shape y_pred.shape[:-1]) with the per-sample losses; backward overwrites dpred.
#include <cmath>
#include <string>
#include <vector>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/loss.h"
#include "cuda/runtime.h"

namespace nk {

using cuda::check_cuda_f32;
using cuda::check_cuda;

namespace {

struct Rows {
  int64_t N, D;
};

std::vector<int64_t> leading(const Tensor& t) { return std::vector<int64_t>(t.shape().begin(), t.shape().end() - 1); }

Rows check_pair(const char* op, const Tensor& y_true, const Tensor& y_pred) {
  check_cuda_f32(y_true, "y_true");
  check_cuda_f32(y_pred, "y_pred");
  NK_CHECK(y_true.shape() == y_pred.shape(), op, ": y_true and y_pred must have the same shape, got y_true ",
           shape_str(y_true.shape()), " and y_pred ", shape_str(y_pred.shape()));
  NK_CHECK(y_pred.ndim() >= 1, op, ": inputs need at least 1 dimension, got a 0-d tensor");
  NK_CHECK(y_pred.numel() > 0, op, ": inputs are empty (shape ", shape_str(y_pred.shape()),
           "): the mean over zero samples is undefined");
  int64_t D = y_pred.dim(-1);
  return {y_pred.numel() / D, D};
}

void check_grad_out(const char* op, const Tensor& dpred, const Tensor& y_pred, const Tensor& other, const char* name) {
  check_cuda_f32(dpred, name);
  NK_CHECK(dpred.shape() == y_pred.shape(), op, ": ", name, " must have the shape of the predictions ",
           shape_str(y_pred.shape()), ", got ", shape_str(dpred.shape()));
  NK_CHECK(dpred.raw() != y_pred.raw() && dpred.raw() != other.raw(), op, ": ", name,
           " must not share memory with the inputs");
}

float* per_sample_out(const char* op, const Tensor* out, const Tensor& y_pred) {
  if (out == nullptr) return nullptr;
  check_cuda_f32(*out, "out");
  NK_CHECK(out->numel() == y_pred.numel() / y_pred.dim(-1), op, ": out must hold one loss per sample, ",
           shape_str(leading(y_pred)), ", got shape ", shape_str(out->shape()));
  return out->data<float>();
}

void check_smoothing(const char* op, float ls) {
  NK_CHECK(std::isfinite(ls) && ls >= 0.0f && ls <= 1.0f, op, ": label_smoothing must be in [0, 1]. "
           "Received: label_smoothing=", ls);
}

void check_delta(float delta) {
  NK_CHECK(std::isfinite(delta) && delta >= 0.0f, "huber: delta must be a finite number >= 0. Received: delta=",
           delta);
}

// Labels: int32/int64 on 'cuda', shape y_pred.shape[:-1] (or + (1,)), each in [0, C) (checked on
// the device; the first bad one is reported with its position and value).
Rows check_labels(const char* op, const Tensor& labels, const Tensor& y_pred) {
  check_cuda(labels, "y_true");
  NK_CHECK_TYPE(labels.dtype() == DType::int32 || labels.dtype() == DType::int64, op,
                ": integer labels (int32 or int64) expected for y_true, got ", dtype_name(labels.dtype()));
  check_cuda_f32(y_pred, "y_pred");
  NK_CHECK(y_pred.ndim() >= 2, op, ": y_pred needs shape (N, classes), got ", shape_str(y_pred.shape()));
  NK_CHECK(y_pred.numel() > 0, op, ": inputs are empty (shape ", shape_str(y_pred.shape()), ")");
  std::vector<int64_t> lead = leading(y_pred), lead1 = lead;
  lead1.push_back(1);
  NK_CHECK(labels.shape() == lead || labels.shape() == lead1, op, ": y_true must hold one label per "
           "sample, shape ", shape_str(lead), " (or ", shape_str(lead1), "), got ", shape_str(labels.shape()),
           " for y_pred of shape ", shape_str(y_pred.shape()));
  int64_t C = y_pred.dim(-1), N = y_pred.numel() / C;
  int64_t bad, value = 0;
  if (labels.dtype() == DType::int32) {
    bad = cuda::first_bad_label(labels.data<int32_t>(), N, C);
    if (bad >= 0) {
      int32_t v;
      cuda::memcpy_d2h(&v, labels.data<int32_t>() + bad, sizeof v);
      value = v;
    }
  } else {
    bad = cuda::first_bad_label(labels.data<int64_t>(), N, C);
    if (bad >= 0) cuda::memcpy_d2h(&value, labels.data<int64_t>() + bad, sizeof value);
  }
  NK_CHECK_INDEX(bad < 0, op, ": label ", value, " at position ", bad, " is out of range: labels must be in [0, ", C,
                 ") for ", C, " classes");
  return {N, C};
}

// name_forward(y_true, y_pred, out=None) -> float and name_backward(dpred, y_true, y_pred).
template <typename Fwd, typename Bwd>
void def_pair(py::module_& m, const char* name, Fwd fwd, Bwd bwd, const char* doc) {
  std::string f = std::string(name) + "_forward", b = std::string(name) + "_backward";
  m.def(f.c_str(), [name, fwd](const Tensor& y_true, const Tensor& y_pred, const Tensor* out) {
        Rows r = check_pair(name, y_true, y_pred);
        float* rows = per_sample_out(name, out, y_pred);
        py::gil_scoped_release nogil;
        return fwd(rows, y_true.data<float>(), y_pred.data<float>(), r.N, r.D);
      }, py::arg("y_true"), py::arg("y_pred"), py::arg("out") = nullptr,
      (std::string("Mean ") + doc + " over the samples (float).").c_str());
  m.def(b.c_str(), [name, bwd](Tensor& dpred, const Tensor& y_true, const Tensor& y_pred) {
        Rows r = check_pair(name, y_true, y_pred);
        check_grad_out(name, dpred, y_pred, y_true, "dpred");
        py::gil_scoped_release nogil;
        bwd(dpred.data<float>(), y_true.data<float>(), y_pred.data<float>(), r.N, r.D);
      }, py::arg("dpred"), py::arg("y_true"), py::arg("y_pred"),
      (std::string("dpred = d(mean ") + doc + ")/d(y_pred) (overwrites dpred).").c_str());
}

}  // namespace

NK_CUDA_BINDING(loss) {
  def_pair(m, "mean_squared_error", cuda::mean_squared_error_forward, cuda::mean_squared_error_backward,
           "squared error");
  def_pair(m, "mean_absolute_error", cuda::mean_absolute_error_forward, cuda::mean_absolute_error_backward,
           "absolute error");
  def_pair(m, "mean_absolute_percentage_error", cuda::mean_absolute_percentage_error_forward,
           cuda::mean_absolute_percentage_error_backward, "absolute percentage error");
  def_pair(m, "mean_squared_logarithmic_error", cuda::mean_squared_logarithmic_error_forward,
           cuda::mean_squared_logarithmic_error_backward, "squared logarithmic error");
  def_pair(m, "log_cosh", cuda::log_cosh_forward, cuda::log_cosh_backward, "log cosh of the error");
  def_pair(m, "kl_divergence", cuda::kl_divergence_forward, cuda::kl_divergence_backward,
           "Kullback-Leibler divergence");
  def_pair(m, "poisson", cuda::poisson_forward, cuda::poisson_backward, "Poisson loss");
  def_pair(m, "hinge", cuda::hinge_forward, cuda::hinge_backward, "hinge loss");
  def_pair(m, "squared_hinge", cuda::squared_hinge_forward, cuda::squared_hinge_backward, "squared hinge loss");
  def_pair(m, "categorical_hinge", cuda::categorical_hinge_forward, cuda::categorical_hinge_backward,
           "categorical hinge loss");
  def_pair(m, "cosine_similarity", cuda::cosine_similarity_forward, cuda::cosine_similarity_backward,
           "negative cosine similarity");

  m.def("huber_forward", [](const Tensor& y_true, const Tensor& y_pred, float delta, const Tensor* out) {
        Rows r = check_pair("huber", y_true, y_pred);
        check_delta(delta);
        float* rows = per_sample_out("huber", out, y_pred);
        py::gil_scoped_release nogil;
        return cuda::huber_forward(rows, y_true.data<float>(), y_pred.data<float>(), r.N, r.D, delta);
      }, py::arg("y_true"), py::arg("y_pred"), py::arg("delta") = 1.0f, py::arg("out") = nullptr,
      "Mean Huber loss over the samples (float).");
  m.def("huber_backward", [](Tensor& dpred, const Tensor& y_true, const Tensor& y_pred, float delta) {
        Rows r = check_pair("huber", y_true, y_pred);
        check_delta(delta);
        check_grad_out("huber", dpred, y_pred, y_true, "dpred");
        py::gil_scoped_release nogil;
        cuda::huber_backward(dpred.data<float>(), y_true.data<float>(), y_pred.data<float>(), r.N, r.D, delta);
      }, py::arg("dpred"), py::arg("y_true"), py::arg("y_pred"), py::arg("delta") = 1.0f,
      "dpred = d(mean Huber loss)/d(y_pred) (overwrites dpred).");

  auto with_logits = [&m](const char* name, auto fwd, auto bwd, const char* doc) {
    std::string f = std::string(name) + "_forward", b = std::string(name) + "_backward";
    m.def(f.c_str(), [name, fwd](const Tensor& y_true, const Tensor& y_pred, bool from_logits, float label_smoothing,
                                 const Tensor* out) {
          Rows r = check_pair(name, y_true, y_pred);
          check_smoothing(name, label_smoothing);
          float* rows = per_sample_out(name, out, y_pred);
          py::gil_scoped_release nogil;
          return fwd(rows, y_true.data<float>(), y_pred.data<float>(), r.N, r.D, from_logits, label_smoothing);
        }, py::arg("y_true"), py::arg("y_pred"), py::arg("from_logits") = false, py::arg("label_smoothing") = 0.0f,
        py::arg("out") = nullptr, doc);
    m.def(b.c_str(), [name, bwd](Tensor& dpred, const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                                 float label_smoothing) {
          Rows r = check_pair(name, y_true, y_pred);
          check_smoothing(name, label_smoothing);
          check_grad_out(name, dpred, y_pred, y_true, "dpred");
          py::gil_scoped_release nogil;
          bwd(dpred.data<float>(), y_true.data<float>(), y_pred.data<float>(), r.N, r.D, from_logits, label_smoothing);
        }, py::arg("dpred"), py::arg("y_true"), py::arg("y_pred"), py::arg("from_logits") = false,
        py::arg("label_smoothing") = 0.0f, "dpred = d(mean loss)/d(y_pred) (overwrites dpred).");
  };
  with_logits("binary_crossentropy", cuda::binary_crossentropy_forward, cuda::binary_crossentropy_backward,
              "Mean binary cross-entropy (Keras: probabilities clipped to [1e-7, 1-1e-7]).");
  with_logits("categorical_crossentropy", cuda::categorical_crossentropy_forward,
              cuda::categorical_crossentropy_backward,
              "Mean categorical cross-entropy (Keras: rows renormalised, then clipped).");

  const char* sce = "sparse_categorical_crossentropy";
  m.def("sparse_categorical_crossentropy_forward",
        [sce](const Tensor& labels, const Tensor& y_pred, bool from_logits, const Tensor* out) {
          Rows r = check_labels(sce, labels, y_pred);
          float* rows = per_sample_out(sce, out, y_pred);
          py::gil_scoped_release nogil;
          return labels.dtype() == DType::int32
                     ? cuda::sparse_categorical_crossentropy_forward(rows, labels.data<int32_t>(),
                                                                     y_pred.data<float>(), r.N, r.D, from_logits)
                     : cuda::sparse_categorical_crossentropy_forward(rows, labels.data<int64_t>(),
                                                                     y_pred.data<float>(), r.N, r.D, from_logits);
        }, py::arg("y_true"), py::arg("y_pred"), py::arg("from_logits") = false, py::arg("out") = nullptr,
        "Mean categorical cross-entropy with integer labels.");
  m.def("sparse_categorical_crossentropy_backward",
        [sce](Tensor& dpred, const Tensor& labels, const Tensor& y_pred, bool from_logits) {
          Rows r = check_labels(sce, labels, y_pred);
          check_grad_out(sce, dpred, y_pred, labels, "dpred");
          py::gil_scoped_release nogil;
          if (labels.dtype() == DType::int32)
            cuda::sparse_categorical_crossentropy_backward(dpred.data<float>(), labels.data<int32_t>(),
                                                           y_pred.data<float>(), r.N, r.D, from_logits);
          else
            cuda::sparse_categorical_crossentropy_backward(dpred.data<float>(), labels.data<int64_t>(),
                                                           y_pred.data<float>(), r.N, r.D, from_logits);
        }, py::arg("dpred"), py::arg("y_true"), py::arg("y_pred"), py::arg("from_logits") = false,
        "dpred = d(mean loss)/d(y_pred) (overwrites dpred).");

  m.def("softmax_cross_entropy_backward",
        [](Tensor& dlogits, const Tensor& y_true, const Tensor& probs, float label_smoothing) {
          const char* op = "softmax_cross_entropy_backward";
          Rows r = check_pair(op, y_true, probs);
          check_smoothing(op, label_smoothing);
          check_grad_out(op, dlogits, probs, y_true, "dlogits");
          py::gil_scoped_release nogil;
          cuda::softmax_cross_entropy_backward(dlogits.data<float>(), y_true.data<float>(), probs.data<float>(), r.N,
                                               r.D, label_smoothing);
        }, py::arg("dlogits"), py::arg("y_true"), py::arg("probs"), py::arg("label_smoothing") = 0.0f,
        "dlogits = (probs * sum(y_true) - y_true) / N: softmax + categorical cross-entropy.");
  m.def("sparse_softmax_cross_entropy_backward",
        [](Tensor& dlogits, const Tensor& labels, const Tensor& probs) {
          const char* op = "sparse_softmax_cross_entropy_backward";
          Rows r = check_labels(op, labels, probs);
          check_grad_out(op, dlogits, probs, labels, "dlogits");
          py::gil_scoped_release nogil;
          if (labels.dtype() == DType::int32)
            cuda::sparse_softmax_cross_entropy_backward(dlogits.data<float>(), labels.data<int32_t>(),
                                                        probs.data<float>(), r.N, r.D);
          else
            cuda::sparse_softmax_cross_entropy_backward(dlogits.data<float>(), labels.data<int64_t>(),
                                                        probs.data<float>(), r.N, r.D);
        }, py::arg("dlogits"), py::arg("y_true"), py::arg("probs"),
        "dlogits = (probs - onehot(y_true)) / N: softmax + sparse categorical cross-entropy.");
  m.def("sigmoid_binary_crossentropy_backward",
        [](Tensor& dlogits, const Tensor& y_true, const Tensor& probs, float label_smoothing) {
          const char* op = "sigmoid_binary_crossentropy_backward";
          Rows r = check_pair(op, y_true, probs);
          check_smoothing(op, label_smoothing);
          check_grad_out(op, dlogits, probs, y_true, "dlogits");
          py::gil_scoped_release nogil;
          cuda::sigmoid_binary_crossentropy_backward(dlogits.data<float>(), y_true.data<float>(), probs.data<float>(),
                                                     r.N, r.D, label_smoothing);
        }, py::arg("dlogits"), py::arg("y_true"), py::arg("probs"), py::arg("label_smoothing") = 0.0f,
        "dlogits = (probs - y_true) / (N * D): sigmoid + binary cross-entropy.");
}

}  // namespace nk
