// loss.h - Keras loss functions: forward (a scalar) and backward (d loss / d y_pred).
//
// Size letters: N samples (every leading axis flattened), D values per sample (the last axis), C
// classes (D for the categorical losses). Every loss is Keras's per-sample value averaged over
// the N samples ("sum_over_batch_size"); the formulas are in loss.cpp's header.
//
// Forward returns that mean as a float, summed in double, and writes the per-sample losses L_n to
// per_sample (N,) unless it is null. Backward OVERWRITES dpred with
// d(mean loss)/d(y_pred) (dpred =, never +=); y_true gets no gradient.
#pragma once
#include <cstdint>

namespace nk {

constexpr float kLossEpsilon = 1e-7f;  // keras.backend.epsilon(): the probability clip

// Shapes, the same for every loss below unless noted:
//   per_sample (N,) out, or null     y_true (N, D)     y_pred (N, D)     dpred (N, D) out

// ---- regression ---------------------------------------------------------------------------
float mean_squared_error_forward(float* per_sample, const float* y_true, const float* y_pred,
                                 int64_t N, int64_t D);
void mean_squared_error_backward(float* dpred, const float* y_true, const float* y_pred,
                                 int64_t N, int64_t D);
float mean_absolute_error_forward(float* per_sample, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D);
void mean_absolute_error_backward(float* dpred, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D);
float mean_absolute_percentage_error_forward(float* per_sample, const float* y_true,
                                             const float* y_pred, int64_t N, int64_t D);
void mean_absolute_percentage_error_backward(float* dpred, const float* y_true, const float* y_pred,
                                             int64_t N, int64_t D);
float mean_squared_logarithmic_error_forward(float* per_sample, const float* y_true,
                                             const float* y_pred, int64_t N, int64_t D);
void mean_squared_logarithmic_error_backward(float* dpred, const float* y_true, const float* y_pred,
                                             int64_t N, int64_t D);
float huber_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                    float delta);
void huber_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                    float delta);
float log_cosh_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                       int64_t D);
void log_cosh_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D);

// ---- distributions and counts ---------------------------------------------------------------
float kl_divergence_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                            int64_t D);
void kl_divergence_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N,
                            int64_t D);
float poisson_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                      int64_t D);
void poisson_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D);

// ---- classification -----------------------------------------------------------------------
// from_logits: y_pred holds logits z; otherwise probabilities p (clipped to [eps, 1-eps]).
// y_true: targets in [0, 1] (binary) or one-hot / soft rows (categorical, D = C classes).
// label_smoothing ls in [0, 1] moves targets towards uniform first (Keras): binary y -> y(1-ls) + ls/2,
// categorical y_c -> y_c (1-ls) + ls/C.
float binary_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D, bool from_logits, float label_smoothing = 0.0f);
void binary_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred,
                                  int64_t N, int64_t D, bool from_logits, float label_smoothing = 0.0f);
float categorical_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred,
                                       int64_t N, int64_t C, bool from_logits,
                                       float label_smoothing = 0.0f);
void categorical_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred,
                                       int64_t N, int64_t C, bool from_logits,
                                       float label_smoothing = 0.0f);

// Integer labels (int32 or int64) in [0, C); check them first with first_bad_label.
template <typename L>
float sparse_categorical_crossentropy_forward(float* per_sample,     // (N,) out, or null
                                              const L* labels,       // (N,)
                                              const float* y_pred,   // (N, C)
                                              int64_t N, int64_t C, bool from_logits);
template <typename L>
void sparse_categorical_crossentropy_backward(float* dpred,          // (N, C) out
                                              const L* labels,       // (N,)
                                              const float* y_pred,   // (N, C)
                                              int64_t N, int64_t C, bool from_logits);
// Index of the first label outside [0, C), or -1 when all are valid.
template <typename L>
int64_t first_bad_label(const L* labels, int64_t N, int64_t C);

// ---- margin and angle ---------------------------------------------------------------------
// hinge: labels that are ALL 0 or 1 are first mapped to -1 / 1 (as Keras does).
float hinge_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                    int64_t D);
void hinge_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D);
float squared_hinge_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                            int64_t D);
void squared_hinge_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N,
                            int64_t D);
float categorical_hinge_forward(float* per_sample, const float* y_true, const float* y_pred,
                                int64_t N, int64_t C);
void categorical_hinge_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N,
                                int64_t C);
float cosine_similarity_forward(float* per_sample, const float* y_true, const float* y_pred,
                                int64_t N, int64_t D);
void cosine_similarity_backward(float* dpred, const float* y_true, const float* y_pred,
                                int64_t N, int64_t D);

// ---- fused activation + loss backward ------------------------------------------------------
// Gradient with respect to the PRE-activation (logits), given the activation's output.
void softmax_cross_entropy_backward(float* dlogits,        // (N, C) out
                                    const float* y_true,   // (N, C)
                                    const float* probs,    // (N, C) softmax output
                                    int64_t N, int64_t C, float label_smoothing = 0.0f);
template <typename L>
void sparse_softmax_cross_entropy_backward(float* dlogits,      // (N, C) out
                                           const L* labels,     // (N,)
                                           const float* probs,  // (N, C) softmax output
                                           int64_t N, int64_t C);
void sigmoid_binary_crossentropy_backward(float* dlogits,       // (N, D) out
                                          const float* y_true,  // (N, D)
                                          const float* probs,   // (N, D) sigmoid output
                                          int64_t N, int64_t D, float label_smoothing = 0.0f);

}  // namespace nk
