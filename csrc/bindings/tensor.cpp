// tensor.cpp (bindings) - the Tensor class: NumPy interop without copies on the CPU.
#include "bindings/common.h"

#include <algorithm>

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
// A 'cuda' tensor's memory is not host-addressable: its numpy() is a copy made by the CUDA module that
// owns it (neurokern.device picks it; _core cannot link libcudart).
static py::array to_numpy(const Tensor& t) {
  if (t.device().type != DeviceType::cpu)
    return py::module_::import("neurokern.device").attr("_host_numpy")(t).cast<py::array>();
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

// ---- DLPack (the legacy, unversioned DLManagedTensor ABI; https://dmlc.github.io/dlpack) -------------
// Declared here from the published ABI: a consumer reads these fields, so their layout is fixed.
struct DLDevice { int32_t device_type; int32_t device_id; };   // kDLCPU = 1, kDLCUDA = 2
struct DLDataType { uint8_t code; uint8_t bits; uint16_t lanes; };  // code: kDLInt = 0, kDLFloat = 2
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};

// What a DLManagedTensor keeps alive: the tensor (hence its storage) and the shape/stride arrays.
struct DLPackHolder {
  Tensor t;
  std::vector<int64_t> shape, strides;
  DLManagedTensor managed;
};

static py::capsule to_dlpack(const Tensor& t, int device_type, int device_id) {
  auto* h = new DLPackHolder{t, t.shape(), std::vector<int64_t>(t.shape().size()), {}};
  int64_t s = 1;
  for (int i = t.ndim() - 1; i >= 0; --i) {
    h->strides[i] = s;
    s *= std::max<int64_t>(h->shape[i], 1);
  }
  DLTensor& d = h->managed.dl_tensor;
  d.data = t.raw();
  d.device = DLDevice{device_type, device_id};
  d.ndim = t.ndim();
  d.dtype = DLDataType{static_cast<uint8_t>(t.dtype() == DType::float32 ? 2 : 0),
                       static_cast<uint8_t>(8 * dtype_size(t.dtype())), 1};
  d.shape = h->shape.data();
  d.strides = h->strides.data();
  d.byte_offset = 0;
  h->managed.manager_ctx = h;
  h->managed.deleter = [](DLManagedTensor* m) { delete static_cast<DLPackHolder*>(m->manager_ctx); };
  // The capsule frees the tensor only if no consumer took it (a consumer renames it "used_dltensor").
  PyObject* cap = PyCapsule_New(&h->managed, "dltensor", [](PyObject* c) {
    if (PyCapsule_IsValid(c, "dltensor")) {
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
      m->deleter(m);
    }
  });
  if (!cap) {
    delete h;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(cap);
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
      .def("numpy", &to_numpy, "A NumPy array sharing this tensor's memory on the cpu; a copy for 'cuda'.")
      .def("__array__", [](const Tensor& t, py::object dtype, py::object copy) {
             py::array a = to_numpy(t);
             if (!dtype.is_none()) a = a.attr("astype")(dtype);
             if (!copy.is_none() && copy.cast<bool>()) a = a.attr("copy")();
             return a;
           }, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("_to_dlpack", &to_dlpack, py::arg("device_type"), py::arg("device_id"),
           "DLPack capsule sharing this tensor's memory (use __dlpack__).")
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
