"""ZeroPadding2D over NHWC activations (csrc/cpu/pad.cpp).

    y  = ops.pad2d(x, ((top, bottom), (left, right)))    # zeros around (N, H, W, C)
    dx = ops.pad2d_backward(dy, ((top, bottom), (left, right)))   # the crop

padding may also be an int (all four sides) or (rows, cols) (symmetric), as Keras ZeroPadding2D.
"""
import numbers

from neurokern.ops._util import as_input, as_output, backend, new_output
from neurokern.ops.pool import _shape4

__all__ = ["pad2d", "pad2d_backward", "normalize_padding2d"]


def normalize_padding2d(padding):
    """int | (rows, cols) | ((top, bottom), (left, right)) -> ((top, bottom), (left, right)) of ints >= 0."""
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    bad = TypeError("padding must be an int, a tuple of 2 ints or a tuple of 2 tuples of 2 ints. "
                    f"Received: padding={padding!r}")
    if is_int(padding):
        p = ((padding, padding), (padding, padding))
    else:
        try:
            a, b = padding
        except (TypeError, ValueError):
            raise bad from None
        if is_int(a) and is_int(b):
            p = ((a, a), (b, b))
        else:
            try:
                (t, bo), (le, r) = a, b
            except (TypeError, ValueError):
                raise bad from None
            if not all(is_int(v) for v in (t, bo, le, r)):
                raise bad
            p = ((t, bo), (le, r))
    if any(v < 0 for pair in p for v in pair):
        raise ValueError(f"padding must be non-negative. Received: padding={padding!r}")
    return tuple((int(u), int(v)) for u, v in p)


def pad2d(x, padding, out=None):
    """x (N, H, W, C) -> (N, H+top+bottom, W+left+right, C) with a zero border."""
    p = normalize_padding2d(padding)
    x_t, as_np = as_input(x)
    n, h, w, c = _shape4(x_t.shape, "x")
    y = new_output(out, (n, h + p[0][0] + p[0][1], w + p[1][0] + p[1][1], c), x_t)
    backend(x_t).pad2d_forward(y, x_t, p)
    return as_output(y, as_np)


def pad2d_backward(dy, padding, out=None):
    """dx = dy without the padded border: (N, OH-top-bottom, OW-left-right, C)."""
    p = normalize_padding2d(padding)
    dy_t, as_np = as_input(dy)
    n, oh, ow, c = _shape4(dy_t.shape, "dy")
    h, w = oh - p[0][0] - p[0][1], ow - p[1][0] - p[1][1]
    if h < 0 or w < 0:
        raise ValueError(f"padding {p} is larger than dy's height/width ({oh}, {ow})")
    dx = new_output(out, (n, h, w, c), dy_t)
    backend(dy_t).pad2d_backward(dx, dy_t, p)
    return as_output(dx, as_np)
