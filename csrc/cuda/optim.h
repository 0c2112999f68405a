// optim.h - fused, in-place optimizer updates on the GPU: the Keras 3 formulas of cpu/optim.cpp's
// header, in the same float32 operation order, so results match the CPU reference to ~1 ulp.
//
// Size letter: n, the number of elements of one parameter tensor. w (n,) and its state buffers (n,)
// are updated in place from the gradient g (n,). Argument order as cpu/optim.h: parameter and
// state (in place) first, then g, then n and the hyper-parameters. Buffers must not overlap.
// Optional state ("or null") is only read when its option is on. Pointers are device pointers.
#pragma once
#include <cstdint>

namespace nk::cuda {

// SGD. v (momentum buffer) may be null when momentum == 0.
void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum, bool nesterov);
// Adagrad (eps inside the sqrt, Keras 3).
void adagrad_update(float* w, float* acc, const float* g, int64_t n, float lr, float epsilon);
// Adadelta.
void adadelta_update(float* w, float* acc_grad, float* acc_delta, const float* g, int64_t n, float lr,
                     float rho, float epsilon);
// RMSprop. mom is used when momentum > 0, avg_grad when centered (each may be null otherwise).
void rmsprop_update(float* w, float* velocity, float* mom, float* avg_grad, const float* g, int64_t n,
                    float lr, float rho, float momentum, float epsilon, bool centered);
// Adam. step = iterations + 1 (>= 1); the bias corrections are folded into one alpha on the host
// (in double, rounded once, as the CPU path). v_hat used when amsgrad.
void adam_update(float* w, float* m, float* v, float* v_hat, const float* g, int64_t n, float lr,
                 float beta_1, float beta_2, float epsilon, int64_t step, bool amsgrad);

}  // namespace nk::cuda
