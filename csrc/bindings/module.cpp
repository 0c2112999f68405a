// module.cpp - the private extension module neurokern._core.
#include "bindings/common.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "neurokern's compiled CPU kernels (private; use neurokern.ops)";
  m.attr("__version__") = NEUROKERN_VERSION;
  py::register_exception<nk::TypeError>(m, "TypeError", PyExc_TypeError);

  m.def("cpu_isa", [] { return std::string(nk::isa_name(nk::cpu_isa())); },
        "Best SIMD path this CPU supports: 'scalar', 'avx2' or 'avx512'.");
  m.def("get_isa", [] { return std::string(nk::isa_name(nk::active_isa())); },
        "SIMD path kernels dispatch on now (NEUROKERN_ISA or set_isa may lower it).");
  m.def("set_isa", [](const std::string& name) { nk::set_isa(nk::parse_isa(name)); },
        py::arg("isa"), "Force a SIMD path ('scalar', 'avx2', 'avx512'); for tests and benchmarks.");
  m.def("get_num_threads", &nk::num_threads);
  m.def("set_num_threads", &nk::set_num_threads, py::arg("n"));
  m.def("has_openmp", [] {
#ifdef NK_OPENMP
    return true;
#else
    return false;
#endif
  });

  nk::bind_tensor(m);
  nk::bind_gemm(m);
  nk::bind_activation(m);
  nk::bind_elementwise(m);
  nk::bind_loss(m);
  nk::bind_optim(m);
  nk::bind_dropout(m);
  nk::bind_pool(m);
  nk::bind_upsample(m);
  nk::bind_batchnorm(m);
  nk::bind_pad(m);
  nk::bind_lstm(m);
  nk::bind_rnn(m);
  nk::bind_embedding(m);
  nk::bind_conv(m);
  nk::bind_image(m);
}
