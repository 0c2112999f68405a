// errors.h - how neurokern C++ reports bad input.
// Kernels and bindings never exit/abort/assert on user input: they throw, and pybind11 turns
//   std::invalid_argument -> ValueError, std::out_of_range -> IndexError,
//   std::runtime_error    -> RuntimeError, nk::TypeError -> TypeError (registered in the binding).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace nk {

// A wrong dtype or object kind (maps to Python TypeError).
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Build a message from pieces: nk::msg("expected rank 2, got ", r).
template <typename... Args>
std::string msg(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

}  // namespace nk

// NK_CHECK(cond, pieces...) throws ValueError with the message when cond is false.
#define NK_CHECK(cond, ...) \
  do { if (!(cond)) throw std::invalid_argument(::nk::msg(__VA_ARGS__)); } while (0)
#define NK_CHECK_TYPE(cond, ...) \
  do { if (!(cond)) throw ::nk::TypeError(::nk::msg(__VA_ARGS__)); } while (0)
#define NK_CHECK_INDEX(cond, ...) \
  do { if (!(cond)) throw std::out_of_range(::nk::msg(__VA_ARGS__)); } while (0)
