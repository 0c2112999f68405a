// tensor.cpp - Tensor allocation, reshape and the argument checks bindings run before kernels.
#include "core/tensor.h"

#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace nk {

DType parse_dtype(const std::string& name) {
  if (name == "float32") return DType::float32;
  if (name == "int32") return DType::int32;
  if (name == "int64") return DType::int64;
  throw std::invalid_argument(msg("unknown dtype '", name, "': use 'float32', 'int32' or 'int64'"));
}

std::string Device::str() const {
  if (type == DeviceType::cpu) return "cpu";
  return index == 0 ? "cuda" : msg("cuda:", index);
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device{DeviceType::cpu, 0};
  if (name == "cuda") return Device{DeviceType::cuda, 0};
  if (name.rfind("cuda:", 0) == 0) {
    const std::string idx = name.substr(5);
    if (!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos)
      return Device{DeviceType::cuda, std::stoi(idx)};
  }
  throw std::invalid_argument(msg("unknown device '", name, "': use 'cpu', 'cuda' or 'cuda:N'"));
}

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) s += ",";
    if (i + 1 < shape.size()) s += " ";
  }
  return s + ")";
}

static void check_new_shape(const std::vector<int64_t>& shape) {
  for (int64_t d : shape)
    NK_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
}

Tensor Tensor::empty(const std::vector<int64_t>& shape, DType dtype) {
  check_new_shape(shape);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  auto st = std::make_shared<Storage>();
  st->nbytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  // aligned_alloc needs a size that is a multiple of the alignment; never ask for 0 bytes.
  size_t bytes = (st->nbytes + kAlignment - 1) / kAlignment * kAlignment;
  if (bytes == 0) bytes = kAlignment;
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (!p) throw std::bad_alloc();
  st->data = p;
  st->owner = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  t.storage_ = std::move(st);
  return t;
}

Tensor Tensor::zeros(const std::vector<int64_t>& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::wrap(void* data, const std::vector<int64_t>& shape, DType dtype, Device device,
                    std::shared_ptr<void> owner) {
  check_new_shape(shape);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  auto st = std::make_shared<Storage>();
  st->data = data;
  st->nbytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  st->device = device;
  st->owner = std::move(owner);
  t.storage_ = std::move(st);
  return t;
}

int64_t Tensor::dim(int i) const {
  int n = ndim();
  int j = i < 0 ? i + n : i;
  NK_CHECK_INDEX(j >= 0 && j < n, "dimension ", i, " is out of range for a tensor of rank ", n);
  return shape_[j];
}

int64_t Tensor::numel() const { return shape_numel(shape_); }

Tensor Tensor::reshape(const std::vector<int64_t>& shape) const {
  std::vector<int64_t> s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      NK_CHECK(infer < 0, "reshape: only one dimension may be -1, got ", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      NK_CHECK(s[i] >= 0, "reshape: negative dimension in ", shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    NK_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", shape_str(shape_),
             " into ", shape_str(shape));
    s[infer] = numel() / known;
  }
  NK_CHECK(shape_numel(s) == numel(), "reshape: cannot reshape ", shape_str(shape_), " (",
           numel(), " elements) into ", shape_str(shape));
  Tensor t = *this;
  t.shape_ = s;
  return t;
}

void check_dtype(const Tensor& t, DType dtype, const char* name) {
  NK_CHECK(t.defined(), name, " is an empty (undefined) tensor");
  NK_CHECK_TYPE(t.dtype() == dtype, name, " must have dtype ", dtype_name(dtype), ", got ",
                dtype_name(t.dtype()));
}

void check_ndim(const Tensor& t, int ndim, const char* name) {
  NK_CHECK(t.ndim() == ndim, name, " must have rank ", ndim, ", got shape ", shape_str(t.shape()));
}

void check_shape(const Tensor& t, const std::vector<int64_t>& shape, const char* name) {
  NK_CHECK(t.shape() == shape, name, " must have shape ", shape_str(shape), ", got ",
           shape_str(t.shape()));
}

void check_same_shape(const Tensor& a, const char* aname, const Tensor& b, const char* bname) {
  NK_CHECK(a.shape() == b.shape(), aname, " and ", bname, " must have the same shape, got ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
}

void check_cpu(const Tensor& t, const char* name) {
  NK_CHECK(t.device().type == DeviceType::cpu, name, " is on ", t.device().str(),
           " but this kernel runs on cpu: move it with .to('cpu')");
}

}  // namespace nk
