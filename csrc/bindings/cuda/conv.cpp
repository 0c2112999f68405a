// conv.cpp (CUDA bindings) - conv2d and conv2d_transpose on device tensors: the same names, argument
// lists and checks as the CPU binding (csrc/bindings/conv.cpp), then the kernels of csrc/cuda/conv.cu.
// Padding arrives explicit (top, bottom, left, right); the 'valid' / 'same' rules live in
// python/neurokern/ops/conv.py. The geometry checks repeat the CPU binding's (same messages) because
// that one is compiled into _core, which this module does not link.
#include <array>
#include <optional>
#include <string>

#include "bindings/cuda/common.h"
#include "bindings/cuda/registry.h"
#include "cuda/conv.h"

namespace nk {

namespace {

using Pair = std::array<int64_t, 2>;
using Pads = std::array<int64_t, 4>;  // top, bottom, left, right
using cuda::check_cuda_f32;
using cuda::ConvShape;

bool overlaps(const Tensor& a, const Tensor& b) {
  auto* pa = static_cast<const char*>(a.raw());
  auto* pb = static_cast<const char*>(b.raw());
  if (!pa || !pb || a.nbytes() == 0 || b.nbytes() == 0) return false;
  return pa < pb + b.nbytes() && pb < pa + a.nbytes();
}

void check_no_alias(const Tensor& out, const char* oname, const Tensor& in, const char* iname, const char* op) {
  NK_CHECK(!overlaps(out, in), op, ": ", oname, " must not share memory with ", iname);
}

// The conv2d geometry for an input of shape (N, H, W, C) and a kernel (KH, KW, C, F).
ConvShape conv_shape(const std::vector<int64_t>& xs, const char* xname, const Tensor& w, Pair strides,
                     Pads pads, Pair dilation, const char* op) {
  NK_CHECK(strides[0] >= 1 && strides[1] >= 1, op, ": strides must be positive integers, got (",
           strides[0], ", ", strides[1], ")");
  NK_CHECK(dilation[0] >= 1 && dilation[1] >= 1, op, ": dilation_rate must be positive integers, got (",
           dilation[0], ", ", dilation[1], ")");
  NK_CHECK(pads[0] >= 0 && pads[1] >= 0 && pads[2] >= 0 && pads[3] >= 0, op,
           ": padding must be >= 0, got (top, bottom, left, right) = (", pads[0], ", ", pads[1], ", ",
           pads[2], ", ", pads[3], ")");
  check_ndim(w, 4, "w (kernel_h, kernel_w, in_channels, filters)");
  const auto& ws = w.shape();
  NK_CHECK(ws[0] >= 1 && ws[1] >= 1, op, ": the kernel must be at least 1x1, got w of shape ", shape_str(ws));
  NK_CHECK(xs[3] == ws[2], op, ": ", xname, " has ", xs[3], " channels (shape ", shape_str(xs),
           ") but the kernel expects ", ws[2], " (w of shape ", shape_str(ws), ")");
  ConvShape s{xs[0], xs[1], xs[2], xs[3], ws[3], ws[0], ws[1], strides[0], strides[1],
              dilation[0], dilation[1], pads[0], pads[2], 0, 0};
  s.OH = cuda::conv_out_len(s.H, s.KH, s.SH, s.DH, pads[0], pads[1]);
  s.OW = cuda::conv_out_len(s.W, s.KW, s.SW, s.DW, pads[2], pads[3]);
  NK_CHECK(s.OH >= 1 && s.OW >= 1, op, ": the (dilated) kernel ", (s.KH - 1) * s.DH + 1, "x",
           (s.KW - 1) * s.DW + 1, " is larger than the padded input ", s.H + pads[0] + pads[1], "x",
           s.W + pads[2] + pads[3], " (", xname, " of shape ", shape_str(xs),
           "): use padding='same' or a smaller kernel");
  return s;
}

std::vector<int64_t> out_shape(const ConvShape& s) { return {s.N, s.OH, s.OW, s.F}; }

void check_bias(const std::optional<Tensor>& b, int64_t n, const char* name, const Tensor& out,
                const char* oname, const char* op) {
  if (!b) return;
  check_cuda_f32(*b, name);
  check_shape(*b, {n}, name);
  check_no_alias(out, oname, *b, name, op);
}

py::list variant_list() {
  py::list out;
  for (const auto& v : cuda::conv2d_variants()) out.append(py::make_tuple(v.name, "cuda", v.description));
  return out;
}

}  // namespace

NK_CUDA_BINDING(conv) {
  m.def("conv2d_forward",
        [](Tensor& y, const Tensor& x, const Tensor& w, std::optional<Tensor> b, Pair strides, Pads pads,
           Pair dilation, const std::string& variant) {
          const char* op = "conv2d_forward";
          check_cuda_f32(y, "y"); check_cuda_f32(x, "x"); check_cuda_f32(w, "w");
          check_ndim(x, 4, "x (batch, height, width, channels)");
          const ConvShape s = conv_shape(x.shape(), "x", w, strides, pads, dilation, op);
          check_shape(y, out_shape(s), "y");
          check_bias(b, s.F, "b", y, "y", op);
          check_no_alias(y, "y", x, "x", op); check_no_alias(y, "y", w, "w", op);
          const float* bp = b ? b->data<float>() : nullptr;
          py::gil_scoped_release nogil;
          cuda::conv2d_forward(y.data<float>(), x.data<float>(), w.data<float>(), bp, s, variant.c_str());
        },
        py::arg("y"), py::arg("x"), py::arg("w"), py::arg("b"), py::arg("strides"), py::arg("pads"),
        py::arg("dilation"), py::arg("variant") = "auto",
        "y (N, OH, OW, F) = conv2d(x (N, H, W, C), w (KH, KW, C, F)) + b (F or None) on the GPU. pads = "
        "(top, bottom, left, right); variant 'naive', 'smem_tiled' or 'auto'.");

  m.def("conv2d_backward_data",
        [](Tensor& dx, const Tensor& dy, const Tensor& w, Pair strides, Pads pads, Pair dilation,
           const std::string& variant) {
          const char* op = "conv2d_backward_data";
          check_cuda_f32(dx, "dx"); check_cuda_f32(dy, "dy"); check_cuda_f32(w, "w");
          check_ndim(dx, 4, "dx (batch, height, width, channels)");
          check_ndim(dy, 4, "dy (batch, out_height, out_width, filters)");
          const ConvShape s = conv_shape(dx.shape(), "the input", w, strides, pads, dilation, op);
          NK_CHECK(dy.shape() == out_shape(s), op, ": dy must have the conv output's shape ",
                   shape_str(out_shape(s)), " for input shape ", shape_str(dx.shape()), ", got ",
                   shape_str(dy.shape()));
          check_no_alias(dx, "dx", dy, "dy", op); check_no_alias(dx, "dx", w, "w", op);
          py::gil_scoped_release nogil;
          cuda::conv2d_backward_data(dx.data<float>(), dy.data<float>(), w.data<float>(), s, variant.c_str());
        },
        py::arg("dx"), py::arg("dy"), py::arg("w"), py::arg("strides"), py::arg("pads"),
        py::arg("dilation"), py::arg("variant") = "auto",
        "dx (N, H, W, C) = gradient of conv2d w.r.t. its input (OVERWRITES dx).");

  m.def("conv2d_backward_weights",
        [](Tensor& dw, std::optional<Tensor> db, const Tensor& dy, const Tensor& x, Pair strides, Pads pads,
           Pair dilation, const std::string& variant) {
          const char* op = "conv2d_backward_weights";
          check_cuda_f32(dw, "dw"); check_cuda_f32(dy, "dy"); check_cuda_f32(x, "x");
          check_ndim(x, 4, "x (batch, height, width, channels)");
          check_ndim(dy, 4, "dy (batch, out_height, out_width, filters)");
          const ConvShape s = conv_shape(x.shape(), "x", dw, strides, pads, dilation, op);
          NK_CHECK(dy.shape() == out_shape(s), op, ": dy must have the conv output's shape ",
                   shape_str(out_shape(s)), " for x of shape ", shape_str(x.shape()), ", got ",
                   shape_str(dy.shape()));
          check_bias(db, s.F, "db", dw, "dw", op);
          check_no_alias(dw, "dw", x, "x", op); check_no_alias(dw, "dw", dy, "dy", op);
          if (db) { check_no_alias(*db, "db", x, "x", op); check_no_alias(*db, "db", dy, "dy", op); }
          float* dbp = db ? db->data<float>() : nullptr;
          py::gil_scoped_release nogil;
          cuda::conv2d_backward_weights(dw.data<float>(), dbp, dy.data<float>(), x.data<float>(), s,
                                        variant.c_str());
        },
        py::arg("dw"), py::arg("db"), py::arg("dy"), py::arg("x"), py::arg("strides"), py::arg("pads"),
        py::arg("dilation"), py::arg("variant") = "auto",
        "dw (KH, KW, C, F) += and db (F, or None) += the conv2d parameter gradients (ACCUMULATE).");

  // Transposed convolution: pads/strides/dilation describe the conv2d it is the transpose of (see the
  // CPU binding): yt (N, H, W, C) is that conv's input, xt (N, OH, OW, F) its output.
  m.def("conv2d_transpose_forward",
        [](Tensor& yt, const Tensor& xt, const Tensor& w, std::optional<Tensor> bt, Pair strides, Pads pads,
           Pair dilation, const std::string& variant) {
          const char* op = "conv2d_transpose_forward";
          check_cuda_f32(yt, "y"); check_cuda_f32(xt, "x"); check_cuda_f32(w, "w");
          check_ndim(yt, 4, "y (batch, out_height, out_width, filters)");
          check_ndim(xt, 4, "x (batch, height, width, channels)");
          check_ndim(w, 4, "w (kernel_h, kernel_w, filters, in_channels)");
          NK_CHECK(xt.dim(3) == w.dim(-1), op, ": x has ", xt.dim(3), " channels (shape ", shape_str(xt.shape()),
                   ") but the kernel expects ", w.dim(-1), " (w of shape ", shape_str(w.shape()),
                   ", layout (KH, KW, filters, in_channels))");
          NK_CHECK(yt.dim(3) == w.dim(2), op, ": y must have ", w.dim(2), " channels, got shape ",
                   shape_str(yt.shape()));
          const ConvShape s = conv_shape(yt.shape(), "y", w, strides, pads, dilation, op);
          NK_CHECK(xt.shape() == out_shape(s), op, ": an output of shape ", shape_str(yt.shape()),
                   " corresponds to an input of shape ", shape_str(out_shape(s)), ", got x of shape ",
                   shape_str(xt.shape()));
          check_bias(bt, s.C, "b", yt, "y", op);
          check_no_alias(yt, "y", xt, "x", op); check_no_alias(yt, "y", w, "w", op);
          const float* bp = bt ? bt->data<float>() : nullptr;
          py::gil_scoped_release nogil;
          cuda::conv2d_transpose_forward(yt.data<float>(), xt.data<float>(), w.data<float>(), bp, s,
                                         variant.c_str());
        },
        py::arg("y"), py::arg("x"), py::arg("w"), py::arg("b"), py::arg("strides"), py::arg("pads"),
        py::arg("dilation"), py::arg("variant") = "auto",
        "y (N, H, W, F_t) = conv2d_transpose(x (N, OH, OW, C_t), w (KH, KW, F_t, C_t)) + b on the GPU; the "
        "geometry is that of the conv2d from y's shape to x's (conv2d_backward_data's code).");

  m.def("conv2d_transpose_backward_data",
        [](Tensor& dxt, const Tensor& dyt, const Tensor& w, Pair strides, Pads pads, Pair dilation,
           const std::string& variant) {
          const char* op = "conv2d_transpose_backward_data";
          check_cuda_f32(dxt, "dx"); check_cuda_f32(dyt, "dy"); check_cuda_f32(w, "w");
          check_ndim(dxt, 4, "dx (batch, height, width, channels)");
          check_ndim(dyt, 4, "dy (batch, out_height, out_width, filters)");
          const ConvShape s = conv_shape(dyt.shape(), "dy", w, strides, pads, dilation, op);
          NK_CHECK(dxt.shape() == out_shape(s), op, ": dx must have the input's shape ", shape_str(out_shape(s)),
                   " for dy of shape ", shape_str(dyt.shape()), ", got ", shape_str(dxt.shape()));
          check_no_alias(dxt, "dx", dyt, "dy", op); check_no_alias(dxt, "dx", w, "w", op);
          py::gil_scoped_release nogil;
          cuda::conv2d_transpose_backward_data(dxt.data<float>(), dyt.data<float>(), w.data<float>(), s,
                                               variant.c_str());
        },
        py::arg("dx"), py::arg("dy"), py::arg("w"), py::arg("strides"), py::arg("pads"),
        py::arg("dilation"), py::arg("variant") = "auto",
        "dx = gradient of conv2d_transpose w.r.t. its input (OVERWRITES dx; conv2d_forward's code).");

  m.def("conv2d_transpose_backward_weights",
        [](Tensor& dw, std::optional<Tensor> dbt, const Tensor& dyt, const Tensor& xt, Pair strides, Pads pads,
           Pair dilation, const std::string& variant) {
          const char* op = "conv2d_transpose_backward_weights";
          check_cuda_f32(dw, "dw"); check_cuda_f32(dyt, "dy"); check_cuda_f32(xt, "x");
          check_ndim(dyt, 4, "dy (batch, out_height, out_width, filters)");
          check_ndim(xt, 4, "x (batch, height, width, channels)");
          const ConvShape s = conv_shape(dyt.shape(), "dy", dw, strides, pads, dilation, op);
          NK_CHECK(xt.shape() == out_shape(s), op, ": x must have shape ", shape_str(out_shape(s)),
                   " for dy of shape ", shape_str(dyt.shape()), ", got ", shape_str(xt.shape()));
          check_bias(dbt, s.C, "db", dw, "dw", op);
          check_no_alias(dw, "dw", xt, "x", op); check_no_alias(dw, "dw", dyt, "dy", op);
          if (dbt) { check_no_alias(*dbt, "db", xt, "x", op); check_no_alias(*dbt, "db", dyt, "dy", op); }
          float* dbp = dbt ? dbt->data<float>() : nullptr;
          py::gil_scoped_release nogil;
          cuda::conv2d_transpose_backward_weights(dw.data<float>(), dbp, dyt.data<float>(), xt.data<float>(), s,
                                                  variant.c_str());
        },
        py::arg("dw"), py::arg("db"), py::arg("dy"), py::arg("x"), py::arg("strides"), py::arg("pads"),
        py::arg("dilation"), py::arg("variant") = "auto",
        "dw (KH, KW, F_t, C_t) += and db (F_t, or None) += the conv2d_transpose parameter gradients "
        "(ACCUMULATE; conv2d_backward_weights' code with x and dy exchanged).");

  m.def("conv2d_variants", [] {
    py::dict out;
    out["forward"] = variant_list();
    out["backward_data"] = variant_list();
    out["backward_weights"] = variant_list();
    return out;
  }, "Registered CUDA conv2d variants per op ('forward', 'backward_data', 'backward_weights') as lists of "
     "(name, 'cuda', description), simplest first. conv2d_transpose uses the same tables.");
}

}  // namespace nk
