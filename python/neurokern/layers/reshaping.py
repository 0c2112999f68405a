"""Reshape and ZeroPadding2D (Keras reshaping layers). No weights.

Reshape(target_shape): (batch, ...) -> (batch, *target_shape), one entry may be -1 (inferred); a view of
the same memory (no kernel). Backward reshapes dy back to the input shape.

ZeroPadding2D(padding): NHWC (N, H, W, C) -> (N, top + H + bottom, left + W + right, C) with zeros.
    y  = ops.pad2d(x, ((top, bottom), (left, right)))
    dx = ops.pad2d_backward(dy, padding)       the crop of dy, OVERWRITES
padding: an int (all four sides), (symmetric_height, symmetric_width), or ((top, bottom), (left, right)).
"""
import math
import numbers

from neurokern import ops
from neurokern.layers.base import InputSpec, Layer, _shape_str
from neurokern.layers.conv import check_data_format, normalize_tuple

__all__ = ["Reshape", "ZeroPadding2D"]


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        msg = ("The `target_shape` argument must be a tuple of positive integers, with at most one -1 (inferred). "
               f"Received: target_shape={target_shape!r}")
        if isinstance(target_shape, numbers.Integral) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        try:
            target = tuple(target_shape)
        except TypeError:
            raise ValueError(msg) from None
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d <= 0 and d != -1) for d in target) \
                or sum(d == -1 for d in target) > 1:
            raise ValueError(msg)
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target)
        self.input_spec = InputSpec(min_ndim=1)

    def _resolve(self, input_shape):
        """The output shape without the batch axis; None for -1 when the input size is not known."""
        known = math.prod(d for d in self.target_shape if d != -1)
        rest = tuple(input_shape[1:])
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(rest)
        if (-1 in self.target_shape and size % known) or (-1 not in self.target_shape and size != known):
            raise ValueError(
                f"layer '{self.name}': cannot reshape an input of shape {_shape_str(input_shape)} ({size} values per "
                f"sample) to target_shape {self.target_shape}: the total size must be unchanged. "
                f"Received: target_shape={self.target_shape}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape))

    def build(self, input_shape):
        self._resolve(tuple(input_shape))  # an incompatible size is reported now, naming this layer
        self.built = True

    def forward(self, x, training=False):
        shape = tuple(x.shape)
        return x.reshape([shape[0]] + list(self._resolve(shape))), shape

    def backward(self, ctx, dy, need_dx=True):
        return dy.reshape(list(ctx)) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


def _normalize_padding2d(padding):
    msg = ("The `padding` argument must be an int, a tuple of 2 ints (symmetric height and width padding) or a "
           "tuple of 2 tuples of 2 ints ((top, bottom), (left, right)), all non-negative. "
           f"Received: padding={padding!r}")
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        p = normalize_tuple(padding, 2, "padding", allow_zero=True)
        return ((p[0], p[0]), (p[1], p[1]))
    try:
        items = tuple(padding)
    except TypeError:
        raise ValueError(msg) from None
    if len(items) != 2:
        raise ValueError(msg)
    out = []
    for item in items:
        try:
            pair = normalize_tuple(item, 2, "padding", allow_zero=True)
        except ValueError:
            raise ValueError(msg) from None
        out.append(pair)
    return tuple(out)


class ZeroPadding2D(Layer):
    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        self.padding = _normalize_padding2d(padding)
        self.data_format = check_data_format(data_format, "ZeroPadding2D")
        super().__init__(**kwargs)
        self.input_spec = InputSpec(ndim=4)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            raise ValueError(f"layer '{self.name}' expects inputs of rank 4 (batch, height, width, channels). "
                             f"Received: input_shape={_shape_str(input_shape)}")
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.padding
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def forward(self, x, training=False):
        return ops.pad2d(x, self.padding), None

    def backward(self, ctx, dy, need_dx=True):
        return ops.pad2d_backward(dy, self.padding) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config
