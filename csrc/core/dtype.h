// dtype.h - the element types a Tensor can hold: float32 for values, int32/int64 for labels and indices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace nk {

enum class DType : int { float32 = 0, int32 = 1, int64 = 2 };

inline size_t dtype_size(DType t) { return t == DType::int64 ? 8 : 4; }

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::float32: return "float32";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
  }
  return "?";
}

DType parse_dtype(const std::string& name);  // throws ValueError naming the accepted dtypes

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::float32; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::int64; };

}  // namespace nk
