// gemm.cpp (bindings) - argument checks for SGEMM (csrc/cpu/gemm.*), then the kernel.
#include "bindings/common.h"
#include "cpu/gemm.h"

namespace nk {

namespace {

// True when the byte ranges of two tensors intersect (views of one NumPy buffer can overlap without
// sharing a start address).
bool overlaps(const Tensor& x, const Tensor& y) {
  auto* xb = static_cast<const char*>(x.raw());
  auto* yb = static_cast<const char*>(y.raw());
  if (!xb || !yb || x.nbytes() == 0 || y.nbytes() == 0) return false;
  return xb < yb + y.nbytes() && yb < xb + x.nbytes();
}

void check_gemm_operands(const Tensor& c, const Tensor& a, const Tensor& b) {
  check_f32(c, "c"); check_f32(a, "a"); check_f32(b, "b");
  NK_CHECK(!overlaps(c, a) && !overlaps(c, b), "gemm: c must not alias (share memory with) a or b");
}

// Runs `variant` ("auto" = dispatcher) on g. The name is checked even when the shape is empty.
void run_gemm(const GemmArgs& g, const std::string& variant) {
  if (variant != "auto") gemm_find_variant(variant.c_str());  // throws ValueError if unusable
  py::gil_scoped_release nogil;
  if (variant == "auto")
    gemm(g.C, g.A, g.B, g.M, g.N, g.K, g.trans_a, g.trans_b, g.alpha, g.beta, g.lda, g.ldb, g.ldc);
  else
    gemm_variant(variant.c_str(), g);
}

// Elements a row-major (rows x cols) matrix with leading dimension ld spans; 0 when empty.
int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows && cols ? (rows - 1) * ld + cols : 0; }

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("gemm",
        [](Tensor& c, const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b,
           float alpha, float beta, const std::string& variant) {
          check_gemm_operands(c, a, b);
          check_ndim(a, 2, "a"); check_ndim(b, 2, "b"); check_ndim(c, 2, "c");
          int64_t M = transpose_a ? a.dim(1) : a.dim(0), K = transpose_a ? a.dim(0) : a.dim(1);
          int64_t Kb = transpose_b ? b.dim(1) : b.dim(0), N = transpose_b ? b.dim(0) : b.dim(1);
          NK_CHECK(K == Kb, "gemm: inner dimensions differ: op(a) is (", M, ", ", K, ") and op(b) is (",
                   Kb, ", ", N, ")");
          check_shape(c, {M, N}, "c");
          // Stored row lengths are the leading dimensions (at least 1 so empty shapes stay valid).
          GemmArgs g{c.data<float>(), a.data<float>(), b.data<float>(), M, N, K,
                     std::max<int64_t>(a.dim(1), 1), std::max<int64_t>(b.dim(1), 1),
                     std::max<int64_t>(N, 1), transpose_a, transpose_b, alpha, beta};
          run_gemm(g, variant);
        },
        py::arg("c"), py::arg("a"), py::arg("b"), py::arg("transpose_a") = false,
        py::arg("transpose_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
        py::arg("variant") = "auto",
        "c = alpha * op(a) @ op(b) + beta * c (float32, 2-d, contiguous). variant picks a registered "
        "implementation by name; 'auto' takes the fastest for the active ISA.");

  m.def("gemm_strided",
        [](Tensor& c, const Tensor& a, const Tensor& b, int64_t m, int64_t n, int64_t k, int64_t lda,
           int64_t ldb, int64_t ldc, bool transpose_a, bool transpose_b, float alpha, float beta,
           const std::string& variant) {
          check_gemm_operands(c, a, b);
          NK_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm_strided: m, n, k must be >= 0, got ", m, ", ", n,
                   ", ", k);
          // Stored shapes: A is (m, k) or, transposed, (k, m); B is (k, n) or (n, k); C is (m, n).
          const int64_t a_rows = transpose_a ? k : m, a_cols = transpose_a ? m : k;
          const int64_t b_rows = transpose_b ? n : k, b_cols = transpose_b ? k : n;
          NK_CHECK(lda >= std::max<int64_t>(a_cols, 1), "gemm_strided: lda=", lda,
                   " must be >= the stored row length of a (", a_cols, ")");
          NK_CHECK(ldb >= std::max<int64_t>(b_cols, 1), "gemm_strided: ldb=", ldb,
                   " must be >= the stored row length of b (", b_cols, ")");
          NK_CHECK(ldc >= std::max<int64_t>(n, 1), "gemm_strided: ldc=", ldc, " must be >= n (", n, ")");
          NK_CHECK(span(a_rows, a_cols, lda) <= a.numel(), "gemm_strided: a has ", a.numel(),
                   " elements but a (", a_rows, ", ", a_cols, ") matrix with lda=", lda, " needs ",
                   span(a_rows, a_cols, lda));
          NK_CHECK(span(b_rows, b_cols, ldb) <= b.numel(), "gemm_strided: b has ", b.numel(),
                   " elements but a (", b_rows, ", ", b_cols, ") matrix with ldb=", ldb, " needs ",
                   span(b_rows, b_cols, ldb));
          NK_CHECK(span(m, n, ldc) <= c.numel(), "gemm_strided: c has ", c.numel(),
                   " elements but a (", m, ", ", n, ") matrix with ldc=", ldc, " needs ", span(m, n, ldc));
          GemmArgs g{c.data<float>(), a.data<float>(), b.data<float>(), m, n, k, lda, ldb, ldc,
                     transpose_a, transpose_b, alpha, beta};
          run_gemm(g, variant);
        },
        py::arg("c"), py::arg("a"), py::arg("b"), py::arg("m"), py::arg("n"), py::arg("k"),
        py::arg("lda"), py::arg("ldb"), py::arg("ldc"), py::arg("transpose_a") = false,
        py::arg("transpose_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
        py::arg("variant") = "auto",
        "The C++ nk::gemm call with explicit sizes and leading dimensions (row strides, in elements): "
        "a, b, c are float32 buffers of any shape read as row-major matrices with rows ld apart, the "
        "way conv and LSTM kernels address sub-matrices.");

  m.def("gemm_variants", [] {
    py::list out;
    for (const auto& v : gemm_variants())
      out.append(py::make_tuple(v.name, isa_name(v.isa), v.description));
    return out;
  }, "Registered SGEMM variants as (name, isa, description), simplest first.");

  m.def("gemm_dispatch",
        [](int64_t m, int64_t n, int64_t k, bool transpose_a, bool transpose_b) {
          NK_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm_dispatch: m, n, k must be >= 0, got ", m, ", ", n,
                   ", ", k);
          GemmArgs g{nullptr, nullptr, nullptr, m, n, k, transpose_a ? m : k, transpose_b ? k : n, n,
                     transpose_a, transpose_b, 1.0f, 0.0f};
          return std::string(gemm_dispatch(g).name);
        },
        py::arg("m"), py::arg("n"), py::arg("k"), py::arg("transpose_a") = false,
        py::arg("transpose_b") = false,
        "Name of the variant 'auto' runs for an (m, n, k) product under the active ISA (no data needed).");

  m.def("gemm_peak_gflops",
        [](const std::string& isa, int threads, double seconds) {
          NK_CHECK(seconds > 0.0 && seconds <= 10.0, "gemm_peak_gflops: seconds must be in (0, 10], got ",
                   seconds);
          Isa which = isa == "auto" ? active_isa() : parse_isa(isa);
          py::gil_scoped_release nogil;
          return gemm_peak_gflops(which, threads, seconds);
        },
        py::arg("isa") = "auto", py::arg("threads") = 1, py::arg("seconds") = 0.2,
        "Measured fp32 FMA peak in GFLOPS: `threads` cores each running independent FMA chains of the "
        "ISA's widest vectors for `seconds` (the roofline bench/gemm.py reports against).");
}

}  // namespace nk
