// recurrent_common.h - argument checks shared by the LSTM and SimpleRNN bindings (defined in lstm.cpp).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "bindings/common.h"

namespace nk {
namespace recurrent_bind {
// Each `outs` tensor must not overlap any other tensor of `all` (null entries are skipped).
void check_disjoint(const std::vector<std::pair<const Tensor*, const char*>>& outs,
                    const std::vector<std::pair<const Tensor*, const char*>>& all);
// The (N, T) mask as bytes (1 = active step); empty when mask is null. Checks device and shape.
std::vector<uint8_t> mask_bytes(const Tensor* mask, int64_t N, int64_t T, const char* op);
// x must be a float32 (N, T, F) tensor with T >= 1.
void check_sequence_input(const Tensor& x, const char* op);
// When t is not null: float32 with exactly `shape`.
void check_opt(const Tensor* t, const std::vector<int64_t>& shape, const char* name);
}  // namespace recurrent_bind
}  // namespace nk
