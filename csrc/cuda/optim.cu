// optim.cu - optimizer updates on the GPU. Formulas (Keras 3 update_step) and size letter: see
// cpu/optim.cpp's header; each kernel body is the CPU reference loop body (cpu/optim.cpp
// *_update_ref) for one element, in the same float32 operation order.
//
// One variant per optimizer: one thread per element, grid-stride. Every update is a stream of
// 16-28 bytes per element with a handful of flops, so it is memory-bound; coalesced element-wise
// access is all there is to optimise. No element depends on another, so there are no races and
// the result is deterministic.
#include "cuda/optim.h"

#include <cmath>

#include "cuda/compat.h"
#include "cuda/runtime.h"

namespace nk::cuda {

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) { return grid_stride_blocks(n, kThreads); }

#define NK_FOR_EACH_ELEMENT(i, n)                                                   \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);         \
       i += (int64_t)blockDim.x * gridDim.x)

// momentum == 0 (v unused): w -= lr g
__global__ void sgd_plain_kernel(float* __restrict__ w, const float* __restrict__ g, int64_t n, float lr) {
  NK_FOR_EACH_ELEMENT(i, n) w[i] -= lr * g[i];
}

// v = momentum v - lr g;  w += v   (nesterov: w += momentum v - lr g, with the new v)
__global__ void sgd_momentum_kernel(float* __restrict__ w, float* __restrict__ v, const float* __restrict__ g,
                                    int64_t n, float lr, float momentum, bool nesterov) {
  NK_FOR_EACH_ELEMENT(i, n) {
    float vi = momentum * v[i] - lr * g[i];
    v[i] = vi;
    w[i] += nesterov ? momentum * vi - lr * g[i] : vi;
  }
}

// acc += g^2;  w -= lr g / sqrt(acc + eps)
__global__ void adagrad_kernel(float* __restrict__ w, float* __restrict__ acc, const float* __restrict__ g,
                               int64_t n, float lr, float epsilon) {
  NK_FOR_EACH_ELEMENT(i, n) {
    float a = acc[i] + g[i] * g[i];
    acc[i] = a;
    w[i] -= lr * g[i] / sqrtf(a + epsilon);
  }
}

// acc_g = rho acc_g + (1-rho) g^2;  delta = -sqrt(acc_d + eps) g / sqrt(acc_g + eps)
// acc_d = rho acc_d + (1-rho) delta^2;  w += lr delta
__global__ void adadelta_kernel(float* __restrict__ w, float* __restrict__ acc_grad, float* __restrict__ acc_delta,
                                const float* __restrict__ g, int64_t n, float lr, float rho, float epsilon) {
  const float one_minus_rho = 1.0f - rho;
  NK_FOR_EACH_ELEMENT(i, n) {
    float gi = g[i];
    float acc_g = rho * acc_grad[i] + one_minus_rho * gi * gi;
    float delta = -sqrtf(acc_delta[i] + epsilon) * gi / sqrtf(acc_g + epsilon);
    acc_grad[i] = acc_g;
    acc_delta[i] = rho * acc_delta[i] + one_minus_rho * delta * delta;
    w[i] += lr * delta;
  }
}

// vel = rho vel + (1-rho) g^2; centered: avg = rho avg + (1-rho) g, den = vel - avg^2 + eps, else
// den = vel + eps; inc = lr g / sqrt(den); momentum: mom = momentum mom + inc, w -= mom; else w -= inc
__global__ void rmsprop_kernel(float* __restrict__ w, float* __restrict__ velocity, float* __restrict__ mom,
                               float* __restrict__ avg_grad, const float* __restrict__ g, int64_t n, float lr,
                               float rho, float momentum, float epsilon) {
  const float one_minus_rho = 1.0f - rho;
  NK_FOR_EACH_ELEMENT(i, n) {
    float gi = g[i];
    float vel = rho * velocity[i] + one_minus_rho * gi * gi;
    velocity[i] = vel;
    float den = vel + epsilon;
    if (avg_grad) {
      float avg = rho * avg_grad[i] + one_minus_rho * gi;
      avg_grad[i] = avg;
      den = vel - avg * avg + epsilon;
    }
    float inc = lr * gi / sqrtf(den);
    if (mom) {
      float mi = momentum * mom[i] + inc;
      mom[i] = mi;
      w[i] -= mi;
    } else {
      w[i] -= inc;
    }
  }
}

// m += (g - m)(1 - beta_1);  v += (g^2 - v)(1 - beta_2);  amsgrad: v_hat = max(v_hat, v), used below
// w -= alpha m / (sqrt(v) + eps),  alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) (host)
__global__ void adam_kernel(float* __restrict__ w, float* __restrict__ m, float* __restrict__ v,
                            float* __restrict__ v_hat, const float* __restrict__ g, int64_t n, float alpha,
                            float beta_1, float beta_2, float epsilon) {
  const float one_minus_b1 = 1.0f - beta_1, one_minus_b2 = 1.0f - beta_2;
  NK_FOR_EACH_ELEMENT(i, n) {
    float gi = g[i];
    float mi = m[i] + (gi - m[i]) * one_minus_b1;
    float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    if (v_hat) {
      vi = fmaxf(v_hat[i], vi);
      v_hat[i] = vi;
    }
    w[i] -= alpha * mi / (sqrtf(vi) + epsilon);
  }
}

#undef NK_FOR_EACH_ELEMENT

}  // namespace

void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum, bool nesterov) {
  if (n <= 0) return;
  if (momentum == 0.0f || v == nullptr) {
    NK_LAUNCH(sgd_plain_kernel, blocks_for(n), kThreads, 0, w, g, n, lr);
    NK_CHECK_LAUNCH("sgd_plain_kernel");
  } else {
    NK_LAUNCH(sgd_momentum_kernel, blocks_for(n), kThreads, 0, w, v, g, n, lr, momentum, nesterov);
    NK_CHECK_LAUNCH("sgd_momentum_kernel");
  }
}

void adagrad_update(float* w, float* acc, const float* g, int64_t n, float lr, float epsilon) {
  if (n <= 0) return;
  NK_LAUNCH(adagrad_kernel, blocks_for(n), kThreads, 0, w, acc, g, n, lr, epsilon);
  NK_CHECK_LAUNCH("adagrad_kernel");
}

void adadelta_update(float* w, float* acc_grad, float* acc_delta, const float* g, int64_t n, float lr,
                     float rho, float epsilon) {
  if (n <= 0) return;
  NK_LAUNCH(adadelta_kernel, blocks_for(n), kThreads, 0, w, acc_grad, acc_delta, g, n, lr, rho, epsilon);
  NK_CHECK_LAUNCH("adadelta_kernel");
}

void rmsprop_update(float* w, float* velocity, float* mom, float* avg_grad, const float* g, int64_t n,
                    float lr, float rho, float momentum, float epsilon, bool centered) {
  if (n <= 0) return;
  float* m = momentum > 0.0f ? mom : nullptr;
  float* avg = centered ? avg_grad : nullptr;
  NK_LAUNCH(rmsprop_kernel, blocks_for(n), kThreads, 0, w, velocity, m, avg, g, n, lr, rho, momentum, epsilon);
  NK_CHECK_LAUNCH("rmsprop_kernel");
}

void adam_update(float* w, float* m, float* v, float* v_hat, const float* g, int64_t n, float lr,
                 float beta_1, float beta_2, float epsilon, int64_t step, bool amsgrad) {
  if (n <= 0) return;
  // bias corrections in double, rounded once (as cpu/optim.cpp; Keras: float32, <= 1 ulp apart)
  const double t = static_cast<double>(step);
  const double alpha = lr * std::sqrt(1.0 - std::pow(static_cast<double>(beta_2), t)) /
                       (1.0 - std::pow(static_cast<double>(beta_1), t));
  NK_LAUNCH(adam_kernel, blocks_for(n), kThreads, 0, w, m, v, amsgrad ? v_hat : nullptr, g, n,
            static_cast<float>(alpha), beta_1, beta_2, epsilon);
  NK_CHECK_LAUNCH("adam_kernel");
}

}  // namespace nk::cuda
