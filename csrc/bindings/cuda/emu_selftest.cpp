// emu_selftest.cpp - Python entry points for the emulator self-test kernels (csrc/cuda/emu_selftest.cu).
// They take and return NumPy arrays (copied to and from device memory here), so the emulator can be
// tested without the device Tensor machinery. Used by tests/cuda/test_emulator.py.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>  // grid / block as lists

#include <cstring>
#include <vector>

#include "bindings/cuda/registry.h"
#include "core/errors.h"
#include "cuda/emu_selftest.h"
#include "cuda/runtime.h"

namespace {

// A device copy of a NumPy array, copied back with to_numpy().
template <typename T>
struct DeviceCopy {
  nk::cuda::Buffer buf;
  std::vector<py::ssize_t> shape;
  explicit DeviceCopy(const py::array_t<T, py::array::c_style | py::array::forcecast>& a)
      : buf(static_cast<size_t>(a.size()) * sizeof(T)), shape(a.shape(), a.shape() + a.ndim()) {
    nk::cuda::memcpy_h2d(buf.get(), a.data(), static_cast<size_t>(a.size()) * sizeof(T));
  }
  T* ptr() { return buf.as<T>(); }
  py::array_t<T> to_numpy() {
    py::array_t<T> out(shape);
    nk::cuda::memcpy_d2h(out.mutable_data(), buf.get(), static_cast<size_t>(out.size()) * sizeof(T));
    return out;
  }
};
template <typename T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;

void check_threads(int block) {
  NK_CHECK(block >= 1 && block <= 1024, "block must be in [1, 1024] threads. Received: block=", block);
}

void check_block(int block) {
  NK_CHECK(block >= 1 && block <= 1024 && (block & (block - 1)) == 0,
           "block must be a power of two in [1, 1024]. Received: block=", block);
}

}  // namespace

NK_CUDA_BINDING(emu_selftest) {
  m.def("selftest_block_reduce", [](Arr<float> x, int block, bool sync) {
    check_block(block);
    int n = static_cast<int>(x.size());
    DeviceCopy<float> dx(x), partial(Arr<float>(std::vector<py::ssize_t>{(n + block - 1) / block}));
    nk::cuda::selftest_block_reduce(partial.ptr(), dx.ptr(), n, block, sync);
    return partial.to_numpy();
  }, py::arg("x"), py::arg("block"), py::arg("sync") = true);

  m.def("selftest_atomics", [](Arr<int32_t> vals, int block) {
    check_threads(block);
    int n = static_cast<int>(vals.size());
    Arr<int32_t> c0(std::vector<py::ssize_t>{5});
    auto c = c0.mutable_unchecked<1>();
    c(0) = 0; c(1) = 0; c(2) = INT32_MIN; c(3) = INT32_MAX; c(4) = -1;
    DeviceCopy<int32_t> dv(vals), counters(c0), old(Arr<int32_t>(std::vector<py::ssize_t>{n}));
    DeviceCopy<float> fsum(Arr<float>(py::array_t<float>(1, std::vector<float>{0.f}.data())));
    DeviceCopy<double> dsum(Arr<double>(py::array_t<double>(1, std::vector<double>{0.0}.data())));
    DeviceCopy<float> fmax(Arr<float>(py::array_t<float>(1, std::vector<float>{-1e30f}.data())));
    nk::cuda::selftest_atomics(counters.ptr(), old.ptr(), fsum.ptr(), dsum.ptr(), fmax.ptr(), dv.ptr(), n, block);
    return py::make_tuple(counters.to_numpy(), old.to_numpy(), fsum.to_numpy(), dsum.to_numpy(), fmax.to_numpy());
  }, py::arg("vals"), py::arg("block"));

  m.def("selftest_warp", [](Arr<int32_t> in, int op, int param, int width, uint32_t mask, bool all_call) {
    int threads = static_cast<int>(in.size());
    DeviceCopy<int32_t> din(in), out(Arr<int32_t>(std::vector<py::ssize_t>{threads}));
    nk::cuda::selftest_warp(out.ptr(), din.ptr(), threads, op, param, width, mask, all_call);
    return out.to_numpy();
  }, py::arg("values"), py::arg("op"), py::arg("param") = 0, py::arg("width") = 32,
     py::arg("mask") = 0xffffffffu, py::arg("all_call") = false);

  m.def("selftest_shuffle_double", [](Arr<double> in, int lane_mask) {
    int threads = static_cast<int>(in.size());
    DeviceCopy<double> din(in), out(Arr<double>(std::vector<py::ssize_t>{threads}));
    nk::cuda::selftest_shuffle_double(out.ptr(), din.ptr(), threads, lane_mask);
    return out.to_numpy();
  }, py::arg("values"), py::arg("lane_mask"));

  m.def("selftest_sync_reductions", [](Arr<int32_t> pred, int block, int n_live) {
    check_threads(block);
    int n = static_cast<int>(pred.size()), blocks = (n + block - 1) / block;
    DeviceCopy<int32_t> dp(pred), out(Arr<int32_t>(std::vector<py::ssize_t>{blocks, 3}));
    nk::cuda::selftest_sync_reductions(out.ptr(), dp.ptr(), n, block, n_live);
    return out.to_numpy();
  }, py::arg("pred"), py::arg("block"), py::arg("n_live"));

  m.def("selftest_divergence", [](int variant, int block) {
    DeviceCopy<int32_t> out(Arr<int32_t>(std::vector<py::ssize_t>{block}));
    nk::cuda::selftest_divergence(out.ptr(), variant, block);
    return out.to_numpy();
  }, py::arg("variant"), py::arg("block"));

  m.def("selftest_oob", [](Arr<float> x, int64_t index, bool write) {
    DeviceCopy<float> dx(x), out(Arr<float>(py::array_t<float>(1, std::vector<float>{0.f}.data())));
    nk::cuda::selftest_oob(dx.ptr(), out.ptr(), index, write);
    return py::make_tuple(dx.to_numpy(), out.to_numpy());
  }, py::arg("x"), py::arg("index"), py::arg("write"));

  m.def("selftest_dyn_smem_reverse", [](Arr<float> x, int block, int extra_floats, bool oob) {
    check_block(block);
    DeviceCopy<float> dx(x), y(Arr<float>(std::vector<py::ssize_t>{static_cast<py::ssize_t>(x.size())}));
    nk::cuda::selftest_dyn_smem_reverse(y.ptr(), dx.ptr(), static_cast<int>(x.size()), block, extra_floats, oob);
    return y.to_numpy();
  }, py::arg("x"), py::arg("block"), py::arg("extra_floats") = 0, py::arg("oob") = false);

  m.def("selftest_launch_config", [](std::vector<int> grid, std::vector<int> block, int64_t smem) {
    NK_CHECK(grid.size() == 3 && block.size() == 3, "grid and block must have 3 entries");
    DeviceCopy<int32_t> out(Arr<int32_t>(py::array_t<int32_t>(1, std::vector<int32_t>{0}.data())));
    nk::cuda::selftest_launch_config(out.ptr(), grid[0], grid[1], grid[2], block[0], block[1], block[2], smem);
    return out.to_numpy();
  }, py::arg("grid"), py::arg("block"), py::arg("smem") = 0);

  m.def("selftest_coords", [](std::vector<int> grid, std::vector<int> block) {
    NK_CHECK(grid.size() == 3 && block.size() == 3, "grid and block must have 3 entries");
    py::ssize_t total = py::ssize_t{grid[0]} * grid[1] * grid[2] * block[0] * block[1] * block[2];
    Arr<int32_t> init(std::vector<py::ssize_t>{total});
    std::fill(init.mutable_data(), init.mutable_data() + total, -1);
    DeviceCopy<int32_t> out(init), out2(init);
    nk::cuda::selftest_coords(out.ptr(), out2.ptr(), grid[0], grid[1], grid[2], block[0], block[1], block[2]);
    return py::make_tuple(out.to_numpy(), out2.to_numpy());
  }, py::arg("grid"), py::arg("block"));

  m.def("selftest_stale_shared", [](int blocks) {
    DeviceCopy<int32_t> out(Arr<int32_t>(std::vector<py::ssize_t>{blocks}));
    nk::cuda::selftest_stale_shared(out.ptr(), blocks);
    return out.to_numpy();
  }, py::arg("blocks"));

  m.def("selftest_host_pointer", [] {
    DeviceCopy<int32_t> out(Arr<int32_t>(py::array_t<int32_t>(1, std::vector<int32_t>{0}.data())));
    nk::cuda::selftest_host_pointer(out.ptr());
    return out.to_numpy();
  });
}
