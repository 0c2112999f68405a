"""Batch normalization over the last (channel) axis (csrc/cpu/batchnorm.cpp), as Keras.

    y, mean, invstd = ops.batch_norm_forward(x, gamma, beta, moving_mean, moving_var, training=True)
    dx = ops.batch_norm_backward(dx_out_or_None, dgamma, dbeta, dy, x, gamma, mean, invstd)

x has any rank; every axis but the last is a row (M rows, C channels). Training normalises with the
batch mean and biased variance and updates moving_mean / moving_var IN PLACE:
moving = moving * momentum + batch * (1 - momentum). Inference uses the moving statistics (and
returns them as mean / invstd = 1 / sqrt(moving_var + epsilon)). gamma / beta may be None
(scale=False / center=False). The backward overwrites dx and ACCUMULATES into dgamma / dbeta
(Tensors, or None to skip). `variant` is 'auto' or 'naive' (reference loops, for tests).
"""
import numbers

import numpy as np

from neurokern._core import Tensor
from neurokern.ops._util import as_input, as_output, backend, new_output

__all__ = ["batch_norm_forward", "batch_norm_backward"]


def _inplace(t, name):
    """Arguments the kernel writes into must be Tensors or float32 C-contiguous NumPy arrays, so the
    caller sees the update (any other array would be silently copied)."""
    if t is None:
        return None
    if isinstance(t, Tensor):
        return t
    if isinstance(t, np.ndarray) and t.dtype == np.float32 and t.flags.c_contiguous and t.flags.writeable:
        return as_input(t)[0]
    raise TypeError(f"{name} is updated in place: pass a neurokern Tensor or a writable float32 C-contiguous "
                    f"NumPy array. Received: {name} of type {type(t).__name__}"
                    + (f" and dtype {t.dtype}" if isinstance(t, np.ndarray) else ""))


def _optional(t):
    return None if t is None else as_input(t)[0]


def _number(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a number. Received: {name}={v!r}")
    return float(v)


def batch_norm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3,
                       out=None, variant="auto"):
    """(y, mean, invstd): y = gamma * (x - mean) * invstd + beta over the last axis of x.

    momentum must be in [0, 1] and epsilon >= 0 (Keras defaults 0.99 and 1e-3).
    """
    momentum, epsilon = _number(momentum, "momentum"), _number(epsilon, "epsilon")
    x_t, as_np = as_input(x)
    mm, mv = _inplace(moving_mean, "moving_mean"), _inplace(moving_var, "moving_var")
    if x_t.ndim < 1:
        raise ValueError(f"batch_norm needs x with a channel (last) axis. Received: x of shape {tuple(x_t.shape)}")
    c = x_t.shape[-1]
    y = new_output(out, x_t.shape, x_t)
    mean, invstd = new_output(None, (c,), x_t), new_output(None, (c,), x_t)
    backend(x_t).batch_norm_forward(y, mean, invstd, x_t, _optional(gamma), _optional(beta), mm, mv,
                                    bool(training), momentum, epsilon, variant)
    return as_output(y, as_np), as_output(mean, as_np), as_output(invstd, as_np)


def batch_norm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, training=True, variant="auto"):
    """dx (shape of x) overwritten, or a new one for dx=None; dgamma += sum(dy * xhat), dbeta += sum(dy).

    training=True differentiates through the batch statistics:
    dx = gamma * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)), xhat = (x - mean) * invstd;
    training=False treats mean / invstd as constants: dx = gamma * invstd * dy. Returns dx.
    """
    dy_t, as_np = as_input(dy)
    x_t, _ = as_input(x)
    dx_t = new_output(_inplace(dx, "dx"), x_t.shape, dy_t)
    backend(dy_t).batch_norm_backward(dx_t, _inplace(dgamma, "dgamma"), _inplace(dbeta, "dbeta"), dy_t, x_t,
                                      _optional(gamma), as_input(mean)[0], as_input(invstd)[0], bool(training),
                                      variant)
    return as_output(dx_t, as_np)
