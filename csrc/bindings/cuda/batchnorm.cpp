// batchnorm.cpp (CUDA bindings) - the `_core` batch normalization bindings (bindings/batchnorm.cpp)
// for tensors on 'cuda': same names, arguments and checks, then cuda/batchnorm.* kernels.
//   batch_norm_forward(y, mean, invstd, x, gamma, beta, moving_mean, moving_var, training, momentum,
//                      epsilon, variant)        moving_* updated in place when training
//   batch_norm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, training, variant)
//                      dx overwritten, dgamma / dbeta accumulated
// x is (..., C): every axis but the last is a row. gamma / beta / dgamma / dbeta may be None.
// variant on CUDA: 'auto' (= 'rows') or 'naive' (one thread per channel).
#include <cmath>
#include <string>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/batchnorm.h"

namespace nk {

using cuda::check_cuda_f32;

namespace {

void check_disjoint(const Tensor& a, const char* an, const Tensor& b, const char* bn) {
  auto pa = static_cast<const char*>(a.raw()), pb = static_cast<const char*>(b.raw());
  if (a.nbytes() == 0 || b.nbytes() == 0) return;
  NK_CHECK(pa + a.nbytes() <= pb || pb + b.nbytes() <= pa, an, " must not share memory with ", bn);
}

cuda::BatchNormVariant parse_variant(const std::string& v) {
  NK_CHECK(v == "auto" || v == "rows" || v == "naive", "unknown batch_norm variant '", v,
           "': choose one of auto, rows, naive");
  return v == "naive" ? cuda::BatchNormVariant::naive : cuda::BatchNormVariant::rows;
}

void check_channel_vec(const Tensor* t, const char* name, int64_t C) {
  if (!t) return;
  check_cuda_f32(*t, name);
  check_shape(*t, {C}, name);
}

void rows_channels(const Tensor& x, int64_t* M, int64_t* C) {
  check_cuda_f32(x, "x");
  NK_CHECK(x.ndim() >= 1, "batch_norm: x needs a channel axis (its last), got a 0-d tensor");
  *C = x.dim(-1);
  NK_CHECK(*C >= 1, "batch_norm: the channel (last) axis of x must be non-empty, got shape ", shape_str(x.shape()));
  *M = x.numel() / *C;
}

}  // namespace

NK_CUDA_BINDING(batchnorm) {
  m.def("batch_norm_forward",
        [](Tensor& y, Tensor& mean, Tensor& invstd, const Tensor& x, const Tensor* gamma, const Tensor* beta,
           Tensor& moving_mean, Tensor& moving_var, bool training, double momentum, double epsilon,
           const std::string& variant) {
          int64_t M, C;
          rows_channels(x, &M, &C);
          check_cuda_f32(y, "y");
          check_same_shape(y, "y", x, "x");
          check_channel_vec(&mean, "mean", C); check_channel_vec(&invstd, "invstd", C);
          check_channel_vec(gamma, "gamma", C); check_channel_vec(beta, "beta", C);
          check_channel_vec(&moving_mean, "moving_mean", C); check_channel_vec(&moving_var, "moving_var", C);
          NK_CHECK(std::isfinite(momentum) && momentum >= 0.0 && momentum <= 1.0,
                   "batch_norm: momentum must be in [0, 1], got ", momentum);
          NK_CHECK(std::isfinite(epsilon) && epsilon >= 0.0, "batch_norm: epsilon must be a finite number >= 0, got ",
                   epsilon);
          NK_CHECK(!training || M >= 1, "batch_norm: training needs at least one row to compute batch "
                   "statistics, got x of shape ", shape_str(x.shape()));
          check_disjoint(y, "y", x, "x");
          const Tensor* outs[] = {&mean, &invstd, &moving_mean, &moving_var};
          const char* names[] = {"mean", "invstd", "moving_mean", "moving_var"};
          for (int i = 0; i < 4; ++i) {
            check_disjoint(*outs[i], names[i], x, "x"); check_disjoint(*outs[i], names[i], y, "y");
            for (int j = i + 1; j < 4; ++j) check_disjoint(*outs[i], names[i], *outs[j], names[j]);
          }
          BatchNormArgs a{M, C, training, static_cast<float>(momentum), static_cast<float>(epsilon)};
          cuda::BatchNormVariant v = parse_variant(variant);
          const float* g = gamma ? gamma->data<float>() : nullptr;
          const float* b = beta ? beta->data<float>() : nullptr;
          py::gil_scoped_release nogil;
          cuda::batch_norm_forward(y.data<float>(), mean.data<float>(), invstd.data<float>(), x.data<float>(), g, b,
                                   moving_mean.data<float>(), moving_var.data<float>(), a, v);
        },
        py::arg("y"), py::arg("mean"), py::arg("invstd"), py::arg("x"), py::arg("gamma").none(true),
        py::arg("beta").none(true), py::arg("moving_mean"), py::arg("moving_var"), py::arg("training"),
        py::arg("momentum"), py::arg("epsilon"), py::arg("variant") = "auto",
        "y = gamma * (x - mean) * invstd + beta over the last axis; training uses batch statistics and "
        "updates moving_mean / moving_var in place (Keras momentum rule).");

  m.def("batch_norm_backward",
        [](Tensor& dx, Tensor* dgamma, Tensor* dbeta, const Tensor& dy, const Tensor& x, const Tensor* gamma,
           const Tensor& mean, const Tensor& invstd, bool training, const std::string& variant) {
          int64_t M, C;
          rows_channels(x, &M, &C);
          check_cuda_f32(dx, "dx"); check_cuda_f32(dy, "dy");
          check_same_shape(dy, "dy", x, "x"); check_same_shape(dx, "dx", x, "x");
          check_channel_vec(dgamma, "dgamma", C); check_channel_vec(dbeta, "dbeta", C);
          check_channel_vec(gamma, "gamma", C);
          check_channel_vec(&mean, "mean", C); check_channel_vec(&invstd, "invstd", C);
          check_disjoint(dx, "dx", dy, "dy"); check_disjoint(dx, "dx", x, "x");
          if (dgamma && dbeta) check_disjoint(*dgamma, "dgamma", *dbeta, "dbeta");
          cuda::BatchNormVariant v = parse_variant(variant);
          float* dg = dgamma ? dgamma->data<float>() : nullptr;
          float* db = dbeta ? dbeta->data<float>() : nullptr;
          const float* g = gamma ? gamma->data<float>() : nullptr;
          py::gil_scoped_release nogil;
          cuda::batch_norm_backward(dx.data<float>(), dg, db, dy.data<float>(), x.data<float>(), g, mean.data<float>(),
                                    invstd.data<float>(), M, C, training, v);
        },
        py::arg("dx"), py::arg("dgamma").none(true), py::arg("dbeta").none(true), py::arg("dy"), py::arg("x"),
        py::arg("gamma").none(true), py::arg("mean"), py::arg("invstd"), py::arg("training") = true,
        py::arg("variant") = "auto",
        "dx = gamma*invstd/M*(M*dy - sum(dy) - xhat*sum(dy*xhat)) (training; gamma*invstd*dy in inference), "
        "overwritten; dgamma += sum(dy*xhat), dbeta += sum(dy).");
}

}  // namespace nk
