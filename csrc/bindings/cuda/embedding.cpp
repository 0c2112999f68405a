// embedding.cpp (CUDA bindings) - the _core embedding API (bindings/embedding.cpp) on device tensors.
//   embedding_forward(y, indices, embeddings, variant)      y (..., D) overwritten
//   embedding_backward(dembeddings, dy, indices, variant)   dembeddings (V, D) ACCUMULATED
// indices: int32 or int64 device tensor of any shape; every value must be in [0, V) (IndexError naming
// the first bad index and its position, raised before anything is written). variant: auto | atomic |
// naive (the CPU's rows_parallel has no CUDA twin: atomics play its role).
#include <string>
#include <vector>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/embedding.h"

namespace nk {

using cuda::check_cuda;
using cuda::check_cuda_f32;

namespace {

bool use_naive(const std::string& v) {
  NK_CHECK(v == "auto" || v == "atomic" || v == "naive", "unknown CUDA embedding variant '", v,
           "': choose one of auto, atomic, naive");
  return v == "naive";
}

void check_indices(const Tensor& idx) { cuda::check_cuda_index(idx, "indices"); }

void check_table(const Tensor& w, const char* name) {
  check_cuda_f32(w, name);
  NK_CHECK(w.ndim() == 2, "embedding: ", name, " must be 2-d (input_dim, output_dim), got shape ",
           shape_str(w.shape()));
}

std::vector<int64_t> out_shape(const Tensor& idx, int64_t D) {
  std::vector<int64_t> s = idx.shape();
  s.push_back(D);
  return s;
}

template <typename I>
void run_forward(Tensor& y, const Tensor& idx, const Tensor& w, bool naive) {
  const int64_t R = idx.numel(), V = w.dim(0), D = w.dim(1);
  py::gil_scoped_release nogil;
  cuda::embedding_check_indices<I>(idx.data<I>(), R, V);  // throws before anything is written
  (naive ? cuda::embedding_forward_naive<I> : cuda::embedding_forward<I>)(y.data<float>(), idx.data<I>(),
                                                                          w.data<float>(), R, V, D);
}

template <typename I>
void run_backward(Tensor& dw, const Tensor& dy, const Tensor& idx, bool naive) {
  const int64_t R = idx.numel(), V = dw.dim(0), D = dw.dim(1);
  py::gil_scoped_release nogil;
  cuda::embedding_check_indices<I>(idx.data<I>(), R, V);
  (naive ? cuda::embedding_backward_naive<I> : cuda::embedding_backward<I>)(dw.data<float>(), dy.data<float>(),
                                                                            idx.data<I>(), R, V, D);
}

}  // namespace

NK_CUDA_BINDING(embedding) {
  m.def("embedding_forward",
        [](Tensor& y, const Tensor& indices, const Tensor& embeddings, const std::string& variant) {
          bool naive = use_naive(variant);
          check_indices(indices);
          check_table(embeddings, "embeddings");
          check_cuda_f32(y, "y");
          check_shape(y, out_shape(indices, embeddings.dim(1)), "y");
          if (indices.dtype() == DType::int32) run_forward<int32_t>(y, indices, embeddings, naive);
          else run_forward<int64_t>(y, indices, embeddings, naive);
        },
        py::arg("y"), py::arg("indices"), py::arg("embeddings"), py::arg("variant") = "auto",
        "y[..., :] = embeddings[indices[...], :]; indices int32/int64 in [0, input_dim).");

  m.def("embedding_backward",
        [](Tensor& dembeddings, const Tensor& dy, const Tensor& indices, const std::string& variant) {
          bool naive = use_naive(variant);
          check_indices(indices);
          check_table(dembeddings, "dembeddings");
          check_cuda_f32(dy, "dy");
          check_shape(dy, out_shape(indices, dembeddings.dim(1)), "dy");
          auto* a = static_cast<const char*>(dembeddings.raw());
          auto* b = static_cast<const char*>(dy.raw());
          NK_CHECK(dy.nbytes() == 0 || dembeddings.nbytes() == 0 || a + dembeddings.nbytes() <= b ||
                       b + dy.nbytes() <= a,
                   "embedding_backward: dembeddings must not share memory with dy");
          if (indices.dtype() == DType::int32) run_backward<int32_t>(dembeddings, dy, indices, naive);
          else run_backward<int64_t>(dembeddings, dy, indices, naive);
        },
        py::arg("dembeddings"), py::arg("dy"), py::arg("indices"), py::arg("variant") = "auto",
        "dembeddings[indices[...], :] += dy[..., :] (ACCUMULATES; repeated indices add up via atomicAdd).");
}

}  // namespace nk
