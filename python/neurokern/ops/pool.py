"""2-d pooling over NHWC activations (csrc/cpu/pool.cpp), with Keras/TF semantics.

    y  = ops.max_pool2d(x, pool_size=(2, 2), strides=None, padding='valid')   # x (N, H, W, C)
    dx = ops.max_pool2d_backward(dy, x, pool_size, strides, padding)
    y  = ops.avg_pool2d(x, ...);  dx = ops.avg_pool2d_backward(dy, x.shape, ...)
    g  = ops.global_avg_pool2d(x)  # (N, C);  dx = ops.global_avg_pool2d_backward(dg, x.shape)

strides=None means strides = pool_size. 'same' padding follows TF: OH = ceil(H / SH), the window
grid centred with the odd padding row below / column right; max pooling never picks padding and
average pooling divides by the number of in-bounds elements. max_pool2d_backward sends each
window's gradient to its FIRST maximum (row-major order in the window), summing where windows
overlap. Backward ops return a fresh dx (overwritten, never accumulated). `variant` is 'auto' or
'naive' (the reference loops, for tests).
"""
import numbers

from neurokern import _core
from neurokern.ops._util import as_input, as_output, backend, new_output

__all__ = ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward", "global_avg_pool2d",
           "global_avg_pool2d_backward", "pool2d_output_shape"]


def _pair(value, name):
    """An int or a pair of ints -> (a, b) of positive ints."""
    vals = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        vals = tuple(vals)
    except TypeError:
        raise TypeError(f"{name} must be an int or a tuple of 2 ints. Received: {name}={value!r}") from None
    if len(vals) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in vals):
        raise TypeError(f"{name} must be an int or a tuple of 2 ints. Received: {name}={value!r}")
    if any(v < 1 for v in vals):
        raise ValueError(f"{name} must be positive. Received: {name}={value!r}")
    return int(vals[0]), int(vals[1])


def _padding(padding):
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same'. Received: padding={padding!r}")
    return p


def _args(pool_size, strides, padding):
    pool = _pair(pool_size, "pool_size")
    return pool, pool if strides is None else _pair(strides, "strides"), _padding(padding)


def _shape4(shape, name):
    shape = tuple(int(s) for s in shape)
    if len(shape) != 4:
        raise ValueError(f"{name} must be 4-d (batch, height, width, channels). Received: {name}={shape}")
    return shape


def pool2d_output_shape(input_shape, pool_size=(2, 2), strides=None, padding="valid"):
    """(N, OH, OW, C) of a 2-d pooling of an (N, H, W, C) input."""
    pool, strides, padding = _args(pool_size, strides, padding)
    return tuple(_core.pool2d_output_shape(list(_shape4(input_shape, "input_shape")), pool, strides, padding))


def max_pool2d(x, pool_size=(2, 2), strides=None, padding="valid", out=None, variant="auto"):
    """Max over each pool window of x (N, H, W, C) -> (N, OH, OW, C)."""
    pool, strides, padding = _args(pool_size, strides, padding)
    x_t, as_np = as_input(x)
    y = new_output(out, pool2d_output_shape(_shape4(x_t.shape, "x"), pool, strides, padding), x_t)
    backend(x_t).max_pool2d_forward(y, x_t, pool, strides, padding, variant)
    return as_output(y, as_np)


def max_pool2d_backward(dy, x, pool_size=(2, 2), strides=None, padding="valid", out=None, variant="auto"):
    """dx (shape of x): dy of each window added at the window's first maximum in x."""
    pool, strides, padding = _args(pool_size, strides, padding)
    dy_t, as_np = as_input(dy)
    x_t, _ = as_input(x)
    dx = new_output(out, x_t.shape, dy_t)
    backend(dy_t).max_pool2d_backward(dx, dy_t, x_t, pool, strides, padding, variant)
    return as_output(dx, as_np)


def avg_pool2d(x, pool_size=(2, 2), strides=None, padding="valid", out=None, variant="auto"):
    """Mean over the in-bounds part of each pool window of x (N, H, W, C) -> (N, OH, OW, C)."""
    pool, strides, padding = _args(pool_size, strides, padding)
    x_t, as_np = as_input(x)
    y = new_output(out, pool2d_output_shape(_shape4(x_t.shape, "x"), pool, strides, padding), x_t)
    backend(x_t).avg_pool2d_forward(y, x_t, pool, strides, padding, variant)
    return as_output(y, as_np)


def avg_pool2d_backward(dy, input_shape, pool_size=(2, 2), strides=None, padding="valid", out=None,
                        variant="auto"):
    """dx of shape input_shape: each window's dy / (its in-bounds count) spread over the window."""
    pool, strides, padding = _args(pool_size, strides, padding)
    dy_t, as_np = as_input(dy)
    dx = new_output(out, _shape4(input_shape, "input_shape"), dy_t)
    backend(dy_t).avg_pool2d_backward(dx, dy_t, pool, strides, padding, variant)
    return as_output(dx, as_np)


def global_avg_pool2d(x, out=None, variant="auto"):
    """Mean over height and width: x (N, H, W, C) -> (N, C)."""
    x_t, as_np = as_input(x)
    n, _, _, c = _shape4(x_t.shape, "x")
    y = new_output(out, (n, c), x_t)
    backend(x_t).global_avg_pool2d_forward(y, x_t, variant)
    return as_output(y, as_np)


def global_avg_pool2d_backward(dy, input_shape, out=None, variant="auto"):
    """dx (input_shape) = dy[n, c] / (H * W) at every position."""
    dy_t, as_np = as_input(dy)
    dx = new_output(out, _shape4(input_shape, "input_shape"), dy_t)
    backend(dy_t).global_avg_pool2d_backward(dx, dy_t, variant)
    return as_output(dx, as_np)
