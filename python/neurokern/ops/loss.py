"""Loss functions, forward and backward (csrc/cpu/loss.cpp, formulas in its header).

Forward ops return the Keras loss: the per-sample loss (over the last axis) averaged over the samples,
as a Python float; pass `per_sample=True` to get the per-sample losses instead (shape
y_pred.shape[:-1], the kind of y_pred). Backward ops return d(mean loss)/d(y_pred), the kind of
y_pred. The fused ops give the gradient with respect to the logits of a softmax/sigmoid output layer
from that layer's output (probabilities).
"""
import numpy as np

from neurokern._core import Tensor
from neurokern.ops._util import as_input, as_output, backend, new_output
from neurokern.tensor import tensor as _tensor


__all__ = [
    "mean_squared_error",
    "mean_squared_error_backward",
    "mean_absolute_error",
    "mean_absolute_error_backward",
    "mean_absolute_percentage_error",
    "mean_absolute_percentage_error_backward",
    "mean_squared_logarithmic_error",
    "mean_squared_logarithmic_error_backward",
    "huber",
    "huber_backward",
    "log_cosh",
    "log_cosh_backward",
    "kl_divergence",
    "kl_divergence_backward",
    "poisson",
    "poisson_backward",
    "binary_crossentropy",
    "binary_crossentropy_backward",
    "categorical_crossentropy",
    "categorical_crossentropy_backward",
    "sparse_categorical_crossentropy",
    "sparse_categorical_crossentropy_backward",
    "hinge",
    "hinge_backward",
    "squared_hinge",
    "squared_hinge_backward",
    "categorical_hinge",
    "categorical_hinge_backward",
    "cosine_similarity",
    "cosine_similarity_backward",
    "softmax_cross_entropy_backward",
    "sparse_softmax_cross_entropy_backward",
    "sigmoid_binary_crossentropy_backward",
]

def labels(y):
    """Integer class labels as an int32/int64 Tensor (Tensors of those dtypes pass through).

    Floats that are whole numbers are accepted, as Keras casts them; anything else is a ValueError.
    """
    if isinstance(y, Tensor):
        if y.dtype in ("int32", "int64"):
            return y
        arr = y.numpy()
    else:
        arr = np.asarray(y)
    if arr.dtype.kind in "iu":
        return _tensor(arr, dtype="int32" if arr.dtype == np.int32 else "int64")
    if arr.dtype.kind in "fb":
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not np.all(whole):
            bad = arr[~whole].reshape(-1)[0]
            raise ValueError("sparse labels must be whole numbers (class indices). "
                             f"Received: label={bad.item()!r}")
        return _tensor(arr.astype(np.int64), dtype="int64")
    raise TypeError(f"sparse labels must be integers, got dtype {arr.dtype}")


def _forward(name, y_true, y_pred, per_sample, *extra):
    p, p_np = as_input(y_pred)
    y = labels(y_true) if name == "sparse_categorical_crossentropy" else as_input(y_true)[0]
    fn = getattr(backend(p), name + "_forward")
    if not per_sample:
        return float(fn(y, p, *extra))
    if p.ndim < 1:
        raise ValueError(f"{name}: y_pred needs at least 1 dimension, got a 0-d input")
    out = new_output(None, tuple(p.shape[:-1]), p)
    fn(y, p, *extra, out=out)
    return as_output(out, p_np)


def _backward(name, y_true, y_pred, out, *extra):
    p, p_np = as_input(y_pred)
    y = labels(y_true) if name.startswith("sparse") else as_input(y_true)[0]
    d = new_output(out, p.shape, p)
    getattr(backend(p), name)(d, y, p, *extra)
    return as_output(d, p_np)


def mean_squared_error(y_true, y_pred, per_sample=False):
    """mean((y_true - y_pred)^2) over the last axis, then over the samples."""
    return _forward("mean_squared_error", y_true, y_pred, per_sample)


def mean_squared_error_backward(y_true, y_pred, out=None):
    return _backward("mean_squared_error_backward", y_true, y_pred, out)


def mean_absolute_error(y_true, y_pred, per_sample=False):
    """mean(|y_true - y_pred|) over the last axis, then over the samples."""
    return _forward("mean_absolute_error", y_true, y_pred, per_sample)


def mean_absolute_error_backward(y_true, y_pred, out=None):
    return _backward("mean_absolute_error_backward", y_true, y_pred, out)


def mean_absolute_percentage_error(y_true, y_pred, per_sample=False):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis, then over the samples."""
    return _forward("mean_absolute_percentage_error", y_true, y_pred, per_sample)


def mean_absolute_percentage_error_backward(y_true, y_pred, out=None):
    return _backward("mean_absolute_percentage_error_backward", y_true, y_pred, out)


def mean_squared_logarithmic_error(y_true, y_pred, per_sample=False):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2), then over the samples."""
    return _forward("mean_squared_logarithmic_error", y_true, y_pred, per_sample)


def mean_squared_logarithmic_error_backward(y_true, y_pred, out=None):
    return _backward("mean_squared_logarithmic_error_backward", y_true, y_pred, out)


def huber(y_true, y_pred, delta=1.0, per_sample=False):
    """Huber loss: quadratic for |error| <= delta, linear beyond; mean over the last axis and samples."""
    return _forward("huber", y_true, y_pred, per_sample, float(delta))


def huber_backward(y_true, y_pred, delta=1.0, out=None):
    return _backward("huber_backward", y_true, y_pred, out, float(delta))


def log_cosh(y_true, y_pred, per_sample=False):
    """mean(log(cosh(y_pred - y_true))) over the last axis, then over the samples."""
    return _forward("log_cosh", y_true, y_pred, per_sample)


def log_cosh_backward(y_true, y_pred, out=None):
    return _backward("log_cosh_backward", y_true, y_pred, out)


def kl_divergence(y_true, y_pred, per_sample=False):
    """sum(y log(y / p)) over the last axis (both clipped to [1e-7, 1]), mean over the samples."""
    return _forward("kl_divergence", y_true, y_pred, per_sample)


def kl_divergence_backward(y_true, y_pred, out=None):
    return _backward("kl_divergence_backward", y_true, y_pred, out)


def poisson(y_true, y_pred, per_sample=False):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis, then over the samples."""
    return _forward("poisson", y_true, y_pred, per_sample)


def poisson_backward(y_true, y_pred, out=None):
    return _backward("poisson_backward", y_true, y_pred, out)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, per_sample=False):
    """Keras binary cross-entropy: probabilities clipped to [1e-7, 1 - 1e-7], or stable from logits.
    label_smoothing ls first maps targets y -> y (1 - ls) + ls / 2."""
    return _forward("binary_crossentropy", y_true, y_pred, per_sample, bool(from_logits),
                    float(label_smoothing))


def binary_crossentropy_backward(y_true, y_pred, from_logits=False, label_smoothing=0.0, out=None):
    return _backward("binary_crossentropy_backward", y_true, y_pred, out, bool(from_logits),
                     float(label_smoothing))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, per_sample=False):
    """Keras categorical cross-entropy: rows of y_pred renormalised and clipped, or log-softmax of
    logits. label_smoothing ls first maps targets y -> y (1 - ls) + ls / classes."""
    return _forward("categorical_crossentropy", y_true, y_pred, per_sample, bool(from_logits),
                    float(label_smoothing))


def categorical_crossentropy_backward(y_true, y_pred, from_logits=False, label_smoothing=0.0, out=None):
    return _backward("categorical_crossentropy_backward", y_true, y_pred, out, bool(from_logits),
                     float(label_smoothing))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, per_sample=False):
    """Categorical cross-entropy with integer labels y_true of shape (N,) or (N, 1)."""
    return _forward("sparse_categorical_crossentropy", y_true, y_pred, per_sample, bool(from_logits))


def sparse_categorical_crossentropy_backward(y_true, y_pred, from_logits=False, out=None):
    return _backward("sparse_categorical_crossentropy_backward", y_true, y_pred, out, bool(from_logits))


def hinge(y_true, y_pred, per_sample=False):
    """mean(max(1 - y_true * y_pred, 0)); labels that are all 0/1 are mapped to -1/1 first."""
    return _forward("hinge", y_true, y_pred, per_sample)


def hinge_backward(y_true, y_pred, out=None):
    return _backward("hinge_backward", y_true, y_pred, out)


def squared_hinge(y_true, y_pred, per_sample=False):
    """mean(max(1 - y_true * y_pred, 0)^2); labels that are all 0/1 are mapped to -1/1 first."""
    return _forward("squared_hinge", y_true, y_pred, per_sample)


def squared_hinge_backward(y_true, y_pred, out=None):
    return _backward("squared_hinge_backward", y_true, y_pred, out)


def categorical_hinge(y_true, y_pred, per_sample=False):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) per sample, mean over samples."""
    return _forward("categorical_hinge", y_true, y_pred, per_sample)


def categorical_hinge_backward(y_true, y_pred, out=None):
    return _backward("categorical_hinge_backward", y_true, y_pred, out)


def cosine_similarity(y_true, y_pred, per_sample=False):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over the last axis, mean over samples."""
    return _forward("cosine_similarity", y_true, y_pred, per_sample)


def cosine_similarity_backward(y_true, y_pred, out=None):
    return _backward("cosine_similarity_backward", y_true, y_pred, out)


def softmax_cross_entropy_backward(y_true, probs, label_smoothing=0.0, out=None):
    """d(categorical cross-entropy)/d(logits) given probs = softmax(logits): (probs - y_true) / N."""
    return _backward("softmax_cross_entropy_backward", y_true, probs, out, float(label_smoothing))


def sparse_softmax_cross_entropy_backward(y_true, probs, out=None):
    """d(sparse categorical cross-entropy)/d(logits) given probs = softmax(logits)."""
    return _backward("sparse_softmax_cross_entropy_backward", y_true, probs, out)


def sigmoid_binary_crossentropy_backward(y_true, probs, label_smoothing=0.0, out=None):
    """d(binary cross-entropy)/d(logits) given probs = sigmoid(logits): (probs - y_true) / (N * D)."""
    return _backward("sigmoid_binary_crossentropy_backward", y_true, probs, out, float(label_smoothing))
