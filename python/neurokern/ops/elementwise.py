"""Elementwise arithmetic and reductions (csrc/cpu/elementwise.cpp).

NumPy arrays or Tensors in, the same kind out (reductions over everything return a Python float).
Binary ops need equal shapes, except that a scalar operand is allowed (it is broadcast on the
C++ side by scale/fill, never by NumPy); bias_add broadcasts b over every axis but the last.
"""
import numbers

import numpy as np

from neurokern._core import Tensor
from neurokern.ops._util import as_input, as_output, backend, new_output


def bias_add(x, b, out=None):
    """x + b with b (C,) added along the last axis of x (..., C). `out` may be x (in place)."""
    x_t, as_np = as_input(x)
    b_t, _ = as_input(b)
    y = new_output(out, x_t.shape, x_t)
    backend(x_t).bias_add_forward(y, x_t, b_t)
    return as_output(y, as_np)


def bias_add_backward(dy, db=None):
    """Gradient of bias_add w.r.t. b: dy summed over every axis but the last.

    With `db` given (a Tensor, or a C-contiguous float32 NumPy array) this ACCUMULATES in place
    (db += ...), as parameter gradients do, and returns db; without it, returns a fresh sum.
    """
    dy_t, as_np = as_input(dy)
    if dy_t.ndim < 1:
        raise ValueError("bias_add_backward: dy must have at least 1 dimension, got a 0-d array")
    if db is None:
        db_t = new_output(None, (dy_t.shape[-1],), dy_t)
        backend(dy_t).fill(db_t, 0.0)
        backend(dy_t).bias_add_backward(db_t, dy_t)
        return as_output(db_t, as_np)
    backend(dy_t).bias_add_backward(_in_place(db, "bias_add_backward", "db"), dy_t)
    return db


def _in_place(y, fn, name):
    """The Tensor an in-place op writes: y itself, or a no-copy wrap of a NumPy array."""
    y_t, _ = as_input(y)
    if not isinstance(y, Tensor) and not (isinstance(y, np.ndarray) and np.shares_memory(y_t.numpy(), y)):
        raise ValueError(f"{fn} updates {name} in place: pass a Tensor or a C-contiguous float32 NumPy "
                         f"array. Received: {name} of type {type(y).__name__}"
                         + (f" and dtype {y.dtype}" if isinstance(y, np.ndarray) else ""))
    return y_t


def _binary(kernel, a, b, out):
    a_t, as_np = as_input(a)
    b_t, _ = as_input(b)
    y = new_output(out, a_t.shape, a_t)
    getattr(backend(a_t), kernel)(y, a_t, b_t)
    return as_output(y, as_np)


def add(a, b, out=None):
    """a + b (same shapes). `out` may be a or b."""
    if isinstance(b, numbers.Number):
        return _affine(a, float(b), out)
    return _binary("add", a, b, out)


def sub(a, b, out=None):
    """a - b (same shapes). `out` may be a or b."""
    if isinstance(b, numbers.Number):
        return _affine(a, -float(b), out)
    return _binary("sub", a, b, out)


def mul(a, b, out=None):
    """a * b (same shapes), or a * scalar. `out` may be a or b."""
    if isinstance(b, numbers.Number):
        return scale(a, float(b), out)
    return _binary("mul", a, b, out)


def div(a, b, out=None):
    """a / b (same shapes), or a / scalar. `out` may be a or b."""
    if isinstance(b, numbers.Number):
        return scale(a, 1.0 / float(b), out)
    return _binary("div", a, b, out)


def _affine(x, beta, out):
    # x + beta for a scalar beta: fill a temporary with beta, then one add (rarely used)
    x_t, as_np = as_input(x)
    y = new_output(out, x_t.shape, x_t)
    tmp = new_output(None, x_t.shape, x_t)
    backend(x_t).fill(tmp, beta)
    backend(x_t).add(y, x_t, tmp)
    return as_output(y, as_np)


def scale(x, alpha, out=None):
    """alpha * x. `out` may be x."""
    x_t, as_np = as_input(x)
    y = new_output(out, x_t.shape, x_t)
    backend(x_t).scale(y, x_t, float(alpha))
    return as_output(y, as_np)


def axpy(y, x, alpha):
    """In place: y += alpha * x (y a Tensor or a C-contiguous float32 NumPy array). Returns y."""
    x_t, _ = as_input(x)
    backend(x_t).axpy(_in_place(y, "axpy", "y"), x_t, float(alpha))
    return y


def fill(y, value):
    """In place: y[...] = value (y a Tensor or a C-contiguous float32 NumPy array). Returns y."""
    y_t = _in_place(y, "fill", "y")
    backend(y_t).fill(y_t, float(value))
    return y


def copy(x, out=None):
    """A copy of x (into `out` when given)."""
    x_t, as_np = as_input(x)
    y = new_output(out, x_t.shape, x_t)
    backend(x_t).copy(y, x_t)
    return as_output(y, as_np)


def square(x, out=None):
    """x * x elementwise."""
    x_t, as_np = as_input(x)
    y = new_output(out, x_t.shape, x_t)
    backend(x_t).square(y, x_t)
    return as_output(y, as_np)


def sqrt(x, out=None):
    """sqrt(x) elementwise (NaN where x < 0)."""
    x_t, as_np = as_input(x)
    y = new_output(out, x_t.shape, x_t)
    backend(x_t).sqrt(y, x_t)
    return as_output(y, as_np)


def _check_axis(axis, ndim, fn):
    if axis is None:
        return None
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"{fn}: axis must be None or an int. Received: axis={axis!r}")
    if ndim == 0 or axis not in (0, -ndim):
        raise ValueError(f"{fn} supports axis=None (everything) or axis=0 (the first axis); "
                         f"for an input of rank {ndim}. Received: axis={axis!r}")
    return 0


def sum(x, axis=None, out=None):  # noqa: A001 - mirrors numpy.sum
    """Sum of all elements (a Python float) or, with axis=0, over the first axis (same kind as x).

    Sums are accumulated in double (blocked), so they are more accurate than a float32 loop.
    """
    x_t, as_np = as_input(x)
    if _check_axis(axis, x_t.ndim, "sum") is None:
        return float(backend(x_t).sum_all(x_t))
    y = new_output(out, x_t.shape[1:], x_t)
    backend(x_t).sum_rows(y, x_t)
    return as_output(y, as_np)


def mean(x, axis=None, out=None):
    """Mean of all elements (a Python float) or, with axis=0, over the first axis."""
    x_t, as_np = as_input(x)
    if _check_axis(axis, x_t.ndim, "mean") is None:
        return float(backend(x_t).mean_all(x_t))
    n = x_t.shape[0]
    if n == 0:
        raise ValueError("mean over axis 0 of an empty axis")
    y = new_output(out, x_t.shape[1:], x_t)
    backend(x_t).sum_rows(y, x_t)
    backend(x_t).scale(y, y, 1.0 / n)
    return as_output(y, as_np)


def argmax(x, axis=-1, out=None):
    """Index (int64) of the first maximum along the last axis (the only axis supported)."""
    x_t, as_np = as_input(x)
    if x_t.ndim == 0:
        raise ValueError("argmax needs an array with at least 1 dimension")
    if axis not in (-1, x_t.ndim - 1):
        raise ValueError(f"argmax supports only the last axis (axis=-1). Received: axis={axis!r}")
    y = new_output(out, x_t.shape[:-1], x_t, dtype="int64")
    backend(x_t).argmax_rows(y, x_t)
    return as_output(y, as_np)
