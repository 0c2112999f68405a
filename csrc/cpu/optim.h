// optim.h - fused, in-place optimizer updates (Keras 3 formulas; see optim.cpp's header).
//
// Size letter: n, the number of elements of one parameter tensor. Each call updates one parameter
// w (n,) in place together with its optimizer state (n,) from its gradient g (n,). Arguments: the
// parameter and state buffers (updated in place) first, then g, then n and hyper-parameters.
// Buffers must not overlap. Optional state (nullptr allowed) is marked "or null".
#pragma once
#include <cstdint>
#include <vector>

#include "core/cpu_features.h"

namespace nk {

// ---- public entry points: split across threads, then the best variant for active_isa() -------

// SGD. v (momentum buffer) may be null when momentum == 0.
void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                bool nesterov);
// Adagrad. acc starts at initial_accumulator_value (the caller fills it).
void adagrad_update(float* w, float* acc, const float* g, int64_t n, float lr, float epsilon);
// Adadelta. acc_grad and acc_delta start at 0.
void adadelta_update(float* w, float* acc_grad, float* acc_delta, const float* g, int64_t n,
                     float lr, float rho, float epsilon);
// RMSprop. mom is used when momentum > 0, avg_grad when centered (each null otherwise).
void rmsprop_update(float* w, float* velocity, float* mom, float* avg_grad, const float* g, int64_t n,
                    float lr, float rho, float momentum, float epsilon, bool centered);
// Adam. step = iterations + 1 (>= 1): the bias corrections use beta^step. v_hat used when amsgrad.
void adam_update(float* w, float* m, float* v, float* v_hat, const float* g, int64_t n, float lr,
                 float beta_1, float beta_2, float epsilon, int64_t step, bool amsgrad);

// ---- per-call argument blocks shared by every variant ---------------------------------------
// slice(b, e) is the same call restricted to elements [b, e) (null pointers stay null).

inline float* nk_off(float* p, int64_t b) { return p ? p + b : nullptr; }
inline const float* nk_off(const float* p, int64_t b) { return p ? p + b : nullptr; }

struct SgdArgs {
  float* w; float* v; const float* g; int64_t n;
  float lr, momentum; bool nesterov;
  SgdArgs slice(int64_t b, int64_t e) const {
    return {nk_off(w, b), nk_off(v, b), nk_off(g, b), e - b, lr, momentum, nesterov};
  }
};
struct AdagradArgs {
  float* w; float* acc; const float* g; int64_t n;
  float lr, epsilon;
  AdagradArgs slice(int64_t b, int64_t e) const {
    return {nk_off(w, b), nk_off(acc, b), nk_off(g, b), e - b, lr, epsilon};
  }
};
struct AdadeltaArgs {
  float* w; float* acc_grad; float* acc_delta; const float* g; int64_t n;
  float lr, rho, epsilon;
  AdadeltaArgs slice(int64_t b, int64_t e) const {
    return {nk_off(w, b), nk_off(acc_grad, b), nk_off(acc_delta, b), nk_off(g, b), e - b, lr, rho,
            epsilon};
  }
};
struct RmspropArgs {
  float* w; float* velocity; float* mom; float* avg_grad; const float* g; int64_t n;
  float lr, rho, momentum, epsilon; bool centered;
  RmspropArgs slice(int64_t b, int64_t e) const {
    return {nk_off(w, b), nk_off(velocity, b), nk_off(mom, b), nk_off(avg_grad, b), nk_off(g, b),
            e - b, lr, rho, momentum, epsilon, centered};
  }
};
struct AdamArgs {
  float* w; float* m; float* v; float* v_hat; const float* g; int64_t n;
  float alpha;  // lr * sqrt(1 - beta_2^step) / (1 - beta_1^step), computed once per call
  float beta_1, beta_2, epsilon; bool amsgrad;
  AdamArgs slice(int64_t b, int64_t e) const {
    return {nk_off(w, b), nk_off(m, b), nk_off(v, b), nk_off(v_hat, b), nk_off(g, b), e - b, alpha,
            beta_1, beta_2, epsilon, amsgrad};
  }
};

// One set of kernels per technique, simplest first. Tests run each through the ISA fixture.
struct OptimVariant {
  const char* name;         // "scalar", "avx2", "avx512"
  Isa isa;                  // lowest ISA it needs
  const char* description;  // one line, as in optim.cpp's header
  void (*sgd)(const SgdArgs&);
  void (*adagrad)(const AdagradArgs&);
  void (*adadelta)(const AdadeltaArgs&);
  void (*rmsprop)(const RmspropArgs&);
  void (*adam)(const AdamArgs&);
};
const std::vector<OptimVariant>& optim_variants();

// The plain loops: the reference every other variant is tested against (and the SIMD tails).
void sgd_update_ref(const SgdArgs& a);
void adagrad_update_ref(const AdagradArgs& a);
void adadelta_update_ref(const AdadeltaArgs& a);
void rmsprop_update_ref(const RmspropArgs& a);
void adam_update_ref(const AdamArgs& a);

}  // namespace nk
