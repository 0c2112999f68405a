// gemm.cpp (bindings) - argument checks for SGEMM, then the kernel.
#include "bindings/common.h"
#include "cpu/gemm.h"

namespace nk {

void bind_gemm(py::module_& m) {
  m.def("gemm",
        [](Tensor& c, const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b,
           float alpha, float beta, const std::string& variant) {
          check_f32(c, "c"); check_f32(a, "a"); check_f32(b, "b");
          check_ndim(a, 2, "a"); check_ndim(b, 2, "b"); check_ndim(c, 2, "c");
          int64_t M = transpose_a ? a.dim(1) : a.dim(0), K = transpose_a ? a.dim(0) : a.dim(1);
          int64_t Kb = transpose_b ? b.dim(1) : b.dim(0), N = transpose_b ? b.dim(0) : b.dim(1);
          NK_CHECK(K == Kb, "gemm: inner dimensions differ: op(a) is (", M, ", ", K, ") and op(b) is (",
                   Kb, ", ", N, ")");
          check_shape(c, {M, N}, "c");
          NK_CHECK(c.raw() != a.raw() && c.raw() != b.raw(), "gemm: c must not alias a or b");
          py::gil_scoped_release nogil;
          if (variant == "auto") {
            gemm(c.data<float>(), a.data<float>(), b.data<float>(), M, N, K, transpose_a, transpose_b,
                 alpha, beta);
          } else {
            GemmArgs g{c.data<float>(), a.data<float>(), b.data<float>(), M, N, K,
                       a.dim(1), b.dim(1), N, transpose_a, transpose_b, alpha, beta};
            if (M && N && K) gemm_variant(variant.c_str(), g);
            else gemm(g.C, g.A, g.B, M, N, K, transpose_a, transpose_b, alpha, beta);
          }
        },
        py::arg("c"), py::arg("a"), py::arg("b"), py::arg("transpose_a") = false,
        py::arg("transpose_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
        py::arg("variant") = "auto",
        "c = alpha * op(a) @ op(b) + beta * c (float32, 2-d, contiguous). variant picks a registered "
        "implementation by name; 'auto' takes the fastest for the active ISA.");
  m.def("gemm_variants", [] {
    py::list out;
    for (const auto& v : gemm_variants())
      out.append(py::make_tuple(v.name, isa_name(v.isa), v.description));
    return out;
  }, "Registered SGEMM variants as (name, isa, description), simplest first.");
}

}  // namespace nk
