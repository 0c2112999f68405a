// recurrent_common.h - device helpers shared by lstm.cu and rnn.cu: the cell activations (as
// csrc/cpu/lstm.cpp's act1 / dact1) and a scratch buffer. Include after "cuda/compat.h".
#pragma once
#include <cstddef>

#include "cuda/compat.h"
#include "cuda/lstm.h"
#include "cuda/runtime.h"

namespace nk::cuda::recurrent {

// f(x) for the recurrent activations. sigmoid in the form that never overflows: exp(-|x|) <= 1.
__device__ __forceinline__ float act1(int act, float x) {
  switch (act) {
    case static_cast<int>(RecurrentAct::sigmoid): {
      const float e = expf(-fabsf(x));
      return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    }
    case static_cast<int>(RecurrentAct::tanh): return tanhf(x);
    case static_cast<int>(RecurrentAct::relu): return x > 0.0f ? x : 0.0f;
    default: return x;  // linear
  }
}

// f'(x) expressed through the output y = f(x) (what the backward has saved).
__device__ __forceinline__ float dact1(int act, float y) {
  switch (act) {
    case static_cast<int>(RecurrentAct::sigmoid): return y * (1.0f - y);
    case static_cast<int>(RecurrentAct::tanh): return 1.0f - y * y;
    case static_cast<int>(RecurrentAct::relu): return y > 0.0f ? 1.0f : 0.0f;  // y > 0 exactly when x > 0
    default: return 1.0f;
  }
}

// A device scratch buffer freed on scope exit (also when a launch check throws).
struct Scratch {
  float* p = nullptr;
  explicit Scratch(size_t count) {
    if (count) p = static_cast<float*>(device_alloc(count * sizeof(float)));
  }
  ~Scratch() { if (p) device_free(p); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

}  // namespace nk::cuda::recurrent
