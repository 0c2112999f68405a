// tensor.cpp (bindings) - the Tensor class: NumPy interop without copies on the CPU.
#include "bindings/common.h"

namespace nk {

static py::dtype np_dtype(DType t) {
  switch (t) {
    case DType::float32: return py::dtype::of<float>();
    case DType::int32: return py::dtype::of<int32_t>();
    case DType::int64: return py::dtype::of<int64_t>();
  }
  throw std::invalid_argument("unknown dtype");
}

static const char* np_format(DType t) {
  switch (t) {
    case DType::float32: return "f";
    case DType::int32: return "i";
    case DType::int64: return "q";
  }
  return "?";
}

// A NumPy view of a CPU tensor's memory. The capsule keeps the storage alive as long as the array.
static py::array to_numpy(const Tensor& t) {
  NK_CHECK(t.device().type == DeviceType::cpu, "tensor is on ", t.device().str(),
           ": use .to('cpu') (or .numpy() on the Python Tensor) to copy it to the host first");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t s = static_cast<py::ssize_t>(dtype_size(t.dtype()));
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(np_dtype(t.dtype()), shape, strides, t.raw(), base);
}

// Wrap a C-contiguous, writable NumPy array of a supported dtype without copying.
static Tensor from_numpy(py::array arr) {
  DType dt;
  if (arr.dtype().is(py::dtype::of<float>())) dt = DType::float32;
  else if (arr.dtype().is(py::dtype::of<int32_t>())) dt = DType::int32;
  else if (arr.dtype().is(py::dtype::of<int64_t>())) dt = DType::int64;
  else
    throw TypeError(msg("cannot wrap a NumPy array of dtype ", std::string(py::str(arr.dtype())),
                        ": neurokern tensors hold float32, int32 or int64 (convert with .astype)"));
  NK_CHECK(arr.flags() & py::array::c_style, "cannot wrap a non-contiguous NumPy array without "
           "copying: pass np.ascontiguousarray(x) (nk.tensor() does this for you)");
  NK_CHECK(arr.writeable(), "cannot wrap a read-only NumPy array without copying: "
           "pass x.copy() (nk.tensor() does this for you)");
  std::vector<int64_t> shape(arr.shape(), arr.shape() + arr.ndim());
  auto* obj = new py::object(arr);
  std::shared_ptr<void> owner(obj, [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  return Tensor::wrap(arr.mutable_data(), shape, dt, Device{}, std::move(owner));
}

void bind_tensor(py::module_& m) {
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol(),
                     "A contiguous n-d array on a device. Create with neurokern.tensor().")
      .def_buffer([](Tensor& t) -> py::buffer_info {
        NK_CHECK(t.device().type == DeviceType::cpu, "only cpu tensors expose a buffer");
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides(shape.size());
        py::ssize_t s = static_cast<py::ssize_t>(dtype_size(t.dtype()));
        for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
          strides[i] = s;
          s *= shape[i] > 0 ? shape[i] : 1;
        }
        return py::buffer_info(t.raw(), static_cast<py::ssize_t>(dtype_size(t.dtype())),
                               np_format(t.dtype()), t.ndim(), shape, strides);
      })
      .def_property_readonly("shape", [](const Tensor& t) {
        py::tuple out(t.ndim());
        for (int i = 0; i < t.ndim(); ++i) out[i] = t.shape()[i];
        return out;
      })
      .def_property_readonly("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def_property_readonly("device", [](const Tensor& t) { return t.device().str(); })
      .def_property_readonly("ndim", &Tensor::ndim)
      .def_property_readonly("size", &Tensor::numel)
      .def_property_readonly("nbytes", [](const Tensor& t) { return t.nbytes(); })
      .def_property_readonly("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw()); })
      .def("__len__", [](const Tensor& t) {
        NK_CHECK(t.ndim() > 0, "len() of a 0-d tensor");
        return t.shape()[0];
      })
      .def("reshape", [](const Tensor& t, std::vector<int64_t> shape) { return t.reshape(shape); },
           py::arg("shape"), "Same data, new shape (no copy; one dimension may be -1).")
      .def("numpy", &to_numpy, "A NumPy array sharing this tensor's memory (cpu tensors).")
      .def("__array__", [](const Tensor& t, py::object dtype, py::object copy) {
             py::array a = to_numpy(t);
             if (!dtype.is_none()) a = a.attr("astype")(dtype);
             if (!copy.is_none() && copy.cast<bool>()) a = a.attr("copy")();
             return a;
           }, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("_share_memory_with", [](const Tensor& a, const Tensor& b) { return a.raw() == b.raw(); });

  m.def("from_numpy", &from_numpy, py::arg("array"),
        "Wrap a C-contiguous writable float32/int32/int64 NumPy array without copying.");
  m.def("empty", [](std::vector<int64_t> shape, const std::string& dtype) {
          return Tensor::empty(shape, parse_dtype(dtype));
        }, py::arg("shape"), py::arg("dtype") = "float32", "New uninitialised cpu tensor.");
  m.def("zeros", [](std::vector<int64_t> shape, const std::string& dtype) {
          return Tensor::zeros(shape, parse_dtype(dtype));
        }, py::arg("shape"), py::arg("dtype") = "float32", "New zero-filled cpu tensor.");
}

}  // namespace nk
