// recurrent_common.h (CUDA bindings) - argument checks shared by the CUDA LSTM and SimpleRNN bindings
// (defined in bindings/cuda/lstm.cpp); the device twins of bindings/recurrent_common.h.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bindings/cuda/common.h"
#include "cuda/lstm.h"

namespace nk {
namespace cuda_recurrent_bind {
using cuda::check_cuda_f32;
// Each `outs` tensor must not overlap any other tensor of `all` (null entries are skipped).
void check_disjoint(const std::vector<std::pair<const Tensor*, const char*>>& outs,
                    const std::vector<std::pair<const Tensor*, const char*>>& all);
// x must be a float32 (N, T, F) device tensor with T >= 1.
void check_sequence_input(const Tensor& x, const char* op);
// When t is not null: a float32 device tensor with exactly `shape`.
void check_opt(const Tensor* t, const std::vector<int64_t>& shape, const char* name);
// 'tanh', 'sigmoid', 'relu' or 'linear'; ValueError naming the supported ones otherwise.
cuda::RecurrentAct recurrent_act(const std::string& name, const char* what);

// The (N, T) mask as device bytes (1 = active step), or null without a mask. The mask must be a device
// tensor (float32, int32 or int64, nonzero = active) of shape (N, T).
class MaskBytes {
 public:
  MaskBytes(const Tensor* mask, int64_t N, int64_t T, const char* op);
  ~MaskBytes();
  MaskBytes(const MaskBytes&) = delete;
  MaskBytes& operator=(const MaskBytes&) = delete;
  const uint8_t* get() const { return bytes_; }

 private:
  uint8_t* bytes_ = nullptr;
};
}  // namespace cuda_recurrent_bind
}  // namespace nk
