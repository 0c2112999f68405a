// optim.cpp - optimizer updates: the plain reference loops, the variant table and the dispatcher.
//
// Size letter: n elements of one parameter tensor. w (n,) and the state buffers (n,) are updated
// in place; g (n,) is read. Formulas are Keras 3's update_step (keras/src/optimizers/*.py), in the
// same float32 operation order, with Keras's defaults:
//
//   SGD(learning_rate=0.01, momentum=0.0, nesterov=False)
//     momentum == 0: w -= lr g
//     else:          v = momentum v - lr g;  w += v   (nesterov: w += momentum v - lr g, new v)
//   Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)
//     acc += g^2;  w -= lr g / sqrt(acc + eps)          (Keras 3: eps inside the sqrt)
//   Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7)
//     acc_g = rho acc_g + (1-rho) g^2
//     delta = -sqrt(acc_d + eps) g / sqrt(acc_g + eps)  (new acc_g, old acc_d)
//     acc_d = rho acc_d + (1-rho) delta^2;  w += lr delta
//   RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)
//     vel = rho vel + (1-rho) g^2
//     centered: avg = rho avg + (1-rho) g;  den = vel - avg^2 + eps;  else den = vel + eps
//     inc = lr g / sqrt(den)
//     momentum > 0: mom = momentum mom + inc; w -= mom;  else w -= inc
//   Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)
//     t = iterations + 1;  alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
//     m += (g - m)(1 - beta_1);  v += (g^2 - v)(1 - beta_2)
//     amsgrad: v_hat = max(v_hat, v), use v_hat below
//     w -= alpha m / (sqrt(v) + eps)
//
// Variants (optim_variants(), simplest first; all are streams of ~16-28 bytes per element, so
// they are memory-bound once n outgrows the L2 cache):
//   scalar - the plain loops below; the reference.
//   avx2   - 8 floats per step (optim_avx2.cpp, body shared with avx512 via optim_simd.inc).
//   avx512 - 16 floats per step (optim_avx512.cpp).
// The dispatcher splits n into one contiguous chunk per thread when n >= kParallelGrain.
#include "cpu/optim.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"

namespace nk {

// ---- reference loops ------------------------------------------------------------------------

void sgd_update_ref(const SgdArgs& a) {
  if (a.momentum == 0.0f || a.v == nullptr) {
    for (int64_t i = 0; i < a.n; ++i) a.w[i] -= a.lr * a.g[i];
    return;
  }
  for (int64_t i = 0; i < a.n; ++i) {
    float v = a.momentum * a.v[i] - a.lr * a.g[i];
    a.v[i] = v;
    a.w[i] += a.nesterov ? a.momentum * v - a.lr * a.g[i] : v;
  }
}

void adagrad_update_ref(const AdagradArgs& a) {
  for (int64_t i = 0; i < a.n; ++i) {
    float acc = a.acc[i] + a.g[i] * a.g[i];
    a.acc[i] = acc;
    a.w[i] -= a.lr * a.g[i] / std::sqrt(acc + a.epsilon);
  }
}

void adadelta_update_ref(const AdadeltaArgs& a) {
  const float one_minus_rho = 1.0f - a.rho;
  for (int64_t i = 0; i < a.n; ++i) {
    float g = a.g[i];
    float acc_g = a.rho * a.acc_grad[i] + one_minus_rho * g * g;
    float delta = -std::sqrt(a.acc_delta[i] + a.epsilon) * g / std::sqrt(acc_g + a.epsilon);
    a.acc_grad[i] = acc_g;
    a.acc_delta[i] = a.rho * a.acc_delta[i] + one_minus_rho * delta * delta;
    a.w[i] += a.lr * delta;
  }
}

void rmsprop_update_ref(const RmspropArgs& a) {
  const float one_minus_rho = 1.0f - a.rho;
  const bool use_mom = a.momentum > 0.0f && a.mom != nullptr;
  const bool centered = a.centered && a.avg_grad != nullptr;
  for (int64_t i = 0; i < a.n; ++i) {
    float g = a.g[i];
    float vel = a.rho * a.velocity[i] + one_minus_rho * g * g;
    a.velocity[i] = vel;
    float den = vel + a.epsilon;
    if (centered) {
      float avg = a.rho * a.avg_grad[i] + one_minus_rho * g;
      a.avg_grad[i] = avg;
      den = vel - avg * avg + a.epsilon;
    }
    float inc = a.lr * g / std::sqrt(den);
    if (use_mom) {
      float mom = a.momentum * a.mom[i] + inc;
      a.mom[i] = mom;
      a.w[i] -= mom;
    } else {
      a.w[i] -= inc;
    }
  }
}

void adam_update_ref(const AdamArgs& a) {
  const float one_minus_b1 = 1.0f - a.beta_1, one_minus_b2 = 1.0f - a.beta_2;
  const bool ams = a.amsgrad && a.v_hat != nullptr;
  for (int64_t i = 0; i < a.n; ++i) {
    float g = a.g[i];
    float m = a.m[i] + (g - a.m[i]) * one_minus_b1;
    float v = a.v[i] + (g * g - a.v[i]) * one_minus_b2;
    a.m[i] = m;
    a.v[i] = v;
    if (ams) {
      v = std::max(a.v_hat[i], v);
      a.v_hat[i] = v;
    }
    a.w[i] -= a.alpha * m / (std::sqrt(v) + a.epsilon);
  }
}

// ---- variant table --------------------------------------------------------------------------

#define NK_OPTIM_DECLARE(ns)                  \
  namespace ns {                              \
  void sgd(const SgdArgs&);                   \
  void adagrad(const AdagradArgs&);           \
  void adadelta(const AdadeltaArgs&);         \
  void rmsprop(const RmspropArgs&);           \
  void adam(const AdamArgs&);                 \
  }
NK_OPTIM_DECLARE(optim_avx2)
NK_OPTIM_DECLARE(optim_avx512)
#undef NK_OPTIM_DECLARE

const std::vector<OptimVariant>& optim_variants() {
  static const std::vector<OptimVariant> table = {
      {"scalar", Isa::scalar, "plain loops; the reference", &sgd_update_ref, &adagrad_update_ref,
       &adadelta_update_ref, &rmsprop_update_ref, &adam_update_ref},
      {"avx2", Isa::avx2, "8 floats per step, FMA (optim_simd.inc)", &optim_avx2::sgd,
       &optim_avx2::adagrad, &optim_avx2::adadelta, &optim_avx2::rmsprop, &optim_avx2::adam},
      {"avx512", Isa::avx512, "16 floats per step, FMA (optim_simd.inc)", &optim_avx512::sgd,
       &optim_avx512::adagrad, &optim_avx512::adadelta, &optim_avx512::rmsprop,
       &optim_avx512::adam},
  };
  return table;
}

namespace {

// The last registered variant the active ISA can run is the fastest.
const OptimVariant& best_variant() {
  const OptimVariant* best = &optim_variants().front();
  for (const auto& v : optim_variants())
    if (static_cast<int>(v.isa) <= static_cast<int>(active_isa())) best = &v;
  return *best;
}

// Run fn on args, one contiguous chunk per thread (multiples of 64 floats, so only the last
// chunk has a SIMD tail) when the stream is long enough to pay for the parallel region.
template <typename Args>
void run(void (*fn)(const Args&), const Args& args) {
  if (args.n <= 0) return;
  if (args.n < kParallelGrain) {
    fn(args);
    return;
  }
#pragma omp parallel
  {
    int64_t b, e;
    thread_range(args.n, 64, &b, &e);
    if (b < e) fn(args.slice(b, e));
  }
}

}  // namespace

void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                bool nesterov) {
  run(best_variant().sgd, SgdArgs{w, momentum == 0.0f ? nullptr : v, g, n, lr, momentum, nesterov});
}

void adagrad_update(float* w, float* acc, const float* g, int64_t n, float lr, float epsilon) {
  run(best_variant().adagrad, AdagradArgs{w, acc, g, n, lr, epsilon});
}

void adadelta_update(float* w, float* acc_grad, float* acc_delta, const float* g, int64_t n,
                     float lr, float rho, float epsilon) {
  run(best_variant().adadelta, AdadeltaArgs{w, acc_grad, acc_delta, g, n, lr, rho, epsilon});
}

void rmsprop_update(float* w, float* velocity, float* mom, float* avg_grad, const float* g, int64_t n,
                    float lr, float rho, float momentum, float epsilon, bool centered) {
  run(best_variant().rmsprop,
      RmspropArgs{w, velocity, momentum > 0.0f ? mom : nullptr, centered ? avg_grad : nullptr, g, n,
                  lr, rho, momentum, epsilon, centered});
}

void adam_update(float* w, float* m, float* v, float* v_hat, const float* g, int64_t n, float lr,
                 float beta_1, float beta_2, float epsilon, int64_t step, bool amsgrad) {
  // Bias corrections in double, rounded once (Keras computes them in float32; <= 1 ulp apart).
  double t = static_cast<double>(step);
  double alpha = lr * std::sqrt(1.0 - std::pow(static_cast<double>(beta_2), t)) /
                 (1.0 - std::pow(static_cast<double>(beta_1), t));
  run(best_variant().adam, AdamArgs{w, m, v, amsgrad ? v_hat : nullptr, g, n,
                                    static_cast<float>(alpha), beta_1, beta_2, epsilon, amsgrad});
}

}  // namespace nk
