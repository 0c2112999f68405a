// loss.h - Keras loss functions on the GPU: forward (the mean loss) and backward (d loss / d y_pred).
// Same functions, formulas, size letters and argument order as cpu/loss.h (formulas in
// cpu/loss.cpp's header): N samples (leading axes flattened), D values per sample, C classes.
//
// Forward returns the mean over the N samples as a host float (it synchronizes: the per-sample
// losses are computed in double on the device, summed in a fixed order by one block and copied
// back), and writes the per-sample losses to per_sample (N,) unless it is null. Backward
// OVERWRITES dpred. All pointers are device pointers.
#pragma once
#include <cstdint>

namespace nk::cuda {

//   per_sample (N,) out, or null     y_true (N, D)     y_pred (N, D)     dpred (N, D) out
#define NK_CUDA_POINTWISE_LOSS_DECL(name)                                                             \
  float name##_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D); \
  void name##_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D);
NK_CUDA_POINTWISE_LOSS_DECL(mean_squared_error)
NK_CUDA_POINTWISE_LOSS_DECL(mean_absolute_error)
NK_CUDA_POINTWISE_LOSS_DECL(mean_absolute_percentage_error)
NK_CUDA_POINTWISE_LOSS_DECL(mean_squared_logarithmic_error)
NK_CUDA_POINTWISE_LOSS_DECL(log_cosh)
NK_CUDA_POINTWISE_LOSS_DECL(kl_divergence)
NK_CUDA_POINTWISE_LOSS_DECL(poisson)
NK_CUDA_POINTWISE_LOSS_DECL(hinge)          // labels that are ALL 0 or 1 become -1 / 1 first
NK_CUDA_POINTWISE_LOSS_DECL(squared_hinge)
NK_CUDA_POINTWISE_LOSS_DECL(categorical_hinge)
NK_CUDA_POINTWISE_LOSS_DECL(cosine_similarity)
#undef NK_CUDA_POINTWISE_LOSS_DECL

float huber_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                    float delta);
void huber_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D, float delta);

// from_logits: y_pred holds logits; label_smoothing as cpu/loss.h.
float binary_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                                  int64_t D, bool from_logits, float label_smoothing = 0.0f);
void binary_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N, int64_t D,
                                  bool from_logits, float label_smoothing = 0.0f);
float categorical_crossentropy_forward(float* per_sample, const float* y_true, const float* y_pred, int64_t N,
                                       int64_t C, bool from_logits, float label_smoothing = 0.0f);
void categorical_crossentropy_backward(float* dpred, const float* y_true, const float* y_pred, int64_t N,
                                       int64_t C, bool from_logits, float label_smoothing = 0.0f);

// Integer labels L = int32_t or int64_t (N,), each in [0, C): check them first with first_bad_label.
template <typename L>
float sparse_categorical_crossentropy_forward(float* per_sample, const L* labels, const float* y_pred,
                                              int64_t N, int64_t C, bool from_logits);
template <typename L>
void sparse_categorical_crossentropy_backward(float* dpred, const L* labels, const float* y_pred, int64_t N,
                                              int64_t C, bool from_logits);
// Index of the first label outside [0, C), or -1 when all are valid (synchronizes).
template <typename L>
int64_t first_bad_label(const L* labels, int64_t N, int64_t C);

// Fused activation + loss backward: gradient w.r.t. the logits given the activation's output.
void softmax_cross_entropy_backward(float* dlogits,       // (N, C) out
                                    const float* y_true,  // (N, C)
                                    const float* probs,   // (N, C) softmax output
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

}  // namespace nk::cuda
