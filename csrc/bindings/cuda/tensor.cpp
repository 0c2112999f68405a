// tensor.cpp (CUDA bindings) - device tensors: allocation, copies host<->device<->device, and the
// ownership tag that lets a kernel binding refuse a tensor of the other CUDA module.
//
// A device tensor is an ordinary nk::Tensor (the Python type neurokern._core.Tensor) whose Storage has
// device 'cuda' and whose owner is a DeviceBlock: the deleter hands the block back to the caching
// allocator (or, for wrapped foreign memory, releases the Python object that owns it).
#include "bindings/cuda/common.h"

#include <algorithm>

namespace nk::cuda {

namespace {

// The address of this variable names this module; DeviceBlock carries it so owns() can tell the two
// modules' tensors apart even though both define a type called nk::cuda::DeviceBlock.
const char kThisModule = 0;

struct DeviceBlock {
  const void* module = &kThisModule;
  py::object* keep = nullptr;  // set for wrap(): the foreign array owning the memory
  void operator()(void* p) const {
    if (keep) {
      py::gil_scoped_acquire gil;
      delete keep;
    } else {
      try {
        device_free(p);
      } catch (...) {  // a deleter must not throw; a failed free leaks the block
      }
    }
  }
};

std::vector<int64_t> checked_shape(const std::vector<int64_t>& shape) {
  for (int64_t d : shape) NK_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  return shape;
}

// Host<->device copies need a cpu tensor on the host side.
void check_host(const Tensor& t, const char* name) {
  NK_CHECK(t.defined(), name, " is an empty (undefined) tensor");
  NK_CHECK(t.device().type == DeviceType::cpu, name, " must be a cpu tensor, got one on ", t.device().str());
}

void check_same_layout(const Tensor& dst, const Tensor& src) {
  check_same_shape(dst, "dst", src, "src");
  NK_CHECK_TYPE(dst.dtype() == src.dtype(), "dst and src must have the same dtype, got ",
                dtype_name(dst.dtype()), " and ", dtype_name(src.dtype()));
}

// dst = src for any pair of devices (both 'cuda' tensors must be ours).
void copy_into(Tensor& dst, const Tensor& src) {
  NK_CHECK(dst.defined() && src.defined(), "copy_: dst and src must be defined tensors");
  check_same_layout(dst, src);
  const bool dst_dev = dst.device().type == DeviceType::cuda, src_dev = src.device().type == DeviceType::cuda;
  if (dst_dev) check_cuda(dst, "dst");
  if (src_dev) check_cuda(src, "src");
  NK_CHECK(dst_dev || src_dev, "copy_: neither tensor is on 'cuda'; copy cpu tensors with NumPy");
  const size_t n = src.nbytes();
  if (n == 0) return;
  if (dst_dev && src_dev) memcpy_d2d(dst.raw(), src.raw(), n);
  else if (dst_dev) memcpy_h2d(dst.raw(), src.raw(), n);
  else memcpy_d2h(dst.raw(), src.raw(), n);
}

Tensor to_device(const Tensor& host) {
  check_host(host, "tensor");
  Tensor t = device_empty(host.shape(), host.dtype());
  if (host.nbytes()) memcpy_h2d(t.raw(), host.raw(), host.nbytes());
  return t;
}

Tensor to_host(const Tensor& dev) {
  check_cuda(dev, "tensor");
  Tensor t = Tensor::empty(dev.shape(), dev.dtype());
  if (dev.nbytes()) memcpy_d2h(t.raw(), dev.raw(), dev.nbytes());
  return t;
}

py::dtype np_dtype(DType t) {
  switch (t) {
    case DType::float32: return py::dtype::of<float>();
    case DType::int32: return py::dtype::of<int32_t>();
    case DType::int64: return py::dtype::of<int64_t>();
  }
  throw std::invalid_argument("unknown dtype");
}

// A fresh NumPy array holding a copy of device tensor `dev` (writable; changing it does not change `dev`).
py::array to_numpy(const Tensor& dev) {
  check_cuda(dev, "tensor");
  std::vector<py::ssize_t> shape(dev.shape().begin(), dev.shape().end());
  py::array out(np_dtype(dev.dtype()), shape);
  if (dev.nbytes()) memcpy_d2h(out.mutable_data(), dev.raw(), dev.nbytes());
  return out;
}

// A device copy of a NumPy array (any dtype NumPy can cast to `dtype`; made contiguous on the host first).
Tensor from_numpy(py::array arr) {
  DType dt;
  if (arr.dtype().is(py::dtype::of<float>())) dt = DType::float32;
  else if (arr.dtype().is(py::dtype::of<int32_t>())) dt = DType::int32;
  else if (arr.dtype().is(py::dtype::of<int64_t>())) dt = DType::int64;
  else
    throw TypeError(msg("cannot copy a NumPy array of dtype ", std::string(py::str(arr.dtype())),
                        " to the device: neurokern tensors hold float32, int32 or int64 (convert with .astype)"));
  auto c = py::array::ensure(arr, py::array::c_style);
  std::vector<int64_t> shape(c.shape(), c.shape() + c.ndim());
  Tensor t = device_empty(shape, dt);
  if (t.nbytes()) memcpy_h2d(t.raw(), c.data(), t.nbytes());
  return t;
}

// A 'cuda' tensor over foreign device memory (a CuPy/PyTorch array): no copy; `owner` is kept alive.
Tensor wrap(uintptr_t ptr, const std::vector<int64_t>& shape, const std::string& dtype, py::object owner) {
  NK_CHECK(ptr != 0 || shape_numel(shape) == 0, "wrap: null device pointer for a non-empty array");
  DeviceBlock block;
  block.keep = new py::object(std::move(owner));
  std::shared_ptr<void> own(reinterpret_cast<void*>(ptr), block);
  return Tensor::wrap(reinterpret_cast<void*>(ptr), checked_shape(shape), parse_dtype(dtype),
                      Device{DeviceType::cuda, 0}, std::move(own));
}

}  // namespace

bool owns(const Tensor& t) {
  if (!t.defined() || t.device().type != DeviceType::cuda) return false;
  const DeviceBlock* b = std::get_deleter<DeviceBlock>(t.storage()->owner);
  return b && b->module == &kThisModule;
}

void check_cuda(const Tensor& t, const char* name) {
  NK_CHECK(t.defined(), name, " is an empty (undefined) tensor");
  NK_CHECK(t.device().type == DeviceType::cuda, name, " is on ", t.device().str(),
           " but this kernel runs on cuda: move it with .to('cuda')");
  NK_CHECK(owns(t), name, " is a 'cuda' tensor of the other CUDA backend (",
#ifdef NK_EMU
           "a real GPU", "), but kernels now run on the emulator",
#else
           "the emulator", "), but kernels now run on the GPU",
#endif
           ": make it again after choosing the backend (neurokern.cuda.use_emulator), or copy it through "
           "the host with .numpy()");
}

Tensor device_empty(const std::vector<int64_t>& shape, DType dtype) {
  const std::vector<int64_t> s = checked_shape(shape);
  const size_t bytes = static_cast<size_t>(shape_numel(s)) * dtype_size(dtype);
  // Never ask the allocator for 0 bytes: every tensor gets a distinct, valid pointer.
  void* p = device_alloc(std::max<size_t>(bytes, 1));
  std::shared_ptr<void> own(p, DeviceBlock{});
  return Tensor::wrap(p, s, dtype, Device{DeviceType::cuda, 0}, std::move(own));
}

Tensor device_zeros(const std::vector<int64_t>& shape, DType dtype) {
  Tensor t = device_empty(shape, dtype);
  if (t.nbytes()) memset_zero(t.raw(), t.nbytes());
  return t;
}

}  // namespace nk::cuda

NK_CUDA_BINDING(tensor) {
  using namespace nk;
  using namespace nk::cuda;
  m.def("empty", [](std::vector<int64_t> shape, const std::string& dtype) {
          return device_empty(shape, parse_dtype(dtype));
        }, py::arg("shape"), py::arg("dtype") = "float32", "New uninitialised 'cuda' tensor.");
  m.def("zeros", [](std::vector<int64_t> shape, const std::string& dtype) {
          return device_zeros(shape, parse_dtype(dtype));
        }, py::arg("shape"), py::arg("dtype") = "float32", "New zero-filled 'cuda' tensor.");
  m.def("from_numpy", &from_numpy, py::arg("array"),
        "A 'cuda' copy of a float32/int32/int64 NumPy array (host -> device).");
  m.def("to_device", &to_device, py::arg("tensor"), "A 'cuda' copy of a cpu tensor (host -> device).");
  m.def("to_host", &to_host, py::arg("tensor"), "A cpu copy of a 'cuda' tensor (device -> host).");
  m.def("numpy", &to_numpy, py::arg("tensor"), "A NumPy copy of a 'cuda' tensor (device -> host).");
  m.def("copy", [](const Tensor& src) {
          check_cuda(src, "src");
          Tensor t = device_empty(src.shape(), src.dtype());
          if (src.nbytes()) memcpy_d2d(t.raw(), src.raw(), src.nbytes());
          return t;
        }, py::arg("src"), "A new 'cuda' tensor with a copy of src (device -> device).");
  m.def("copy_", &copy_into, py::arg("dst"), py::arg("src"),
        "dst = src in place; same shape and dtype, at least one on 'cuda' (h2d, d2h or d2d).");
  m.def("wrap", &wrap, py::arg("ptr"), py::arg("shape"), py::arg("dtype"), py::arg("owner"),
        "A 'cuda' tensor over foreign device memory at ptr (no copy); owner is kept alive.");
  m.def("owns", &owns, py::arg("tensor"), "True if tensor is a 'cuda' tensor of this module.");
  m.def("synchronize", &synchronize, "Wait for every kernel launched so far.");
  m.def("device_count", &device_count, "CUDA devices visible (the emulator reports 1).");
  m.def("is_emulated", &is_emulated, "True for neurokern._cuda_emu.");
}
