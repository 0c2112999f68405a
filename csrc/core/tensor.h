// tensor.h - a contiguous, row-major n-d array: shared storage + shape + dtype + device.
// There are no strides: views, broadcasting and slicing stay in Python (NumPy); kernels receive
// contiguous buffers and sizes. reshape() shares storage because contiguous data needs no copy.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"

namespace nk {

// A block of memory and whoever owns it. `owner` keeps foreign memory (a NumPy array) alive;
// for memory we allocate it frees the aligned block.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::shared_ptr<void> owner;
};

constexpr size_t kAlignment = 64;  // one cache line, one zmm register

class Tensor {
 public:
  Tensor() = default;
  // New, uninitialised CPU tensor (64-byte aligned).
  static Tensor empty(const std::vector<int64_t>& shape, DType dtype);
  static Tensor zeros(const std::vector<int64_t>& shape, DType dtype);
  // Wrap memory owned by someone else (zero-copy). `owner` is released when the last Tensor goes.
  static Tensor wrap(void* data, const std::vector<int64_t>& shape, DType dtype, Device device,
                     std::shared_ptr<void> owner);

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(int i) const;  // negative i counts from the end; throws IndexError
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const;
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device : Device{}; }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool defined() const { return storage_ != nullptr; }

  void* raw() const { return storage_ ? storage_->data : nullptr; }
  template <typename T> T* data() const { return static_cast<T*>(raw()); }

  Tensor reshape(const std::vector<int64_t>& shape) const;  // shares storage; one -1 allowed
  const std::shared_ptr<Storage>& storage() const { return storage_; }

 private:
  std::shared_ptr<Storage> storage_;
  std::vector<int64_t> shape_;
  DType dtype_ = DType::float32;
};

int64_t shape_numel(const std::vector<int64_t>& shape);
std::string shape_str(const std::vector<int64_t>& shape);  // "(64, 784)"

// Argument checks used by every binding before a kernel runs (throw with the argument's name).
void check_dtype(const Tensor& t, DType dtype, const char* name);
void check_ndim(const Tensor& t, int ndim, const char* name);
void check_shape(const Tensor& t, const std::vector<int64_t>& shape, const char* name);
void check_same_shape(const Tensor& a, const char* aname, const Tensor& b, const char* bname);
void check_cpu(const Tensor& t, const char* name);

}  // namespace nk
