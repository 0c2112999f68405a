"""Flatten: (batch, d1, d2, ...) -> (batch, d1*d2*...), a reshape of the same memory (no kernel).

Backward reshapes dy back to the input shape. (channels_last only, as the data layout is NHWC.)
"""
import math

from neurokern.layers.base import InputSpec, Layer

__all__ = ["Flatten"]


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        if data_format not in (None, "channels_last"):
            raise ValueError("Flatten supports only data_format='channels_last' (neurokern images are NHWC). "
                             f"Received: data_format={data_format!r}")
        super().__init__(**kwargs)
        self.input_spec = InputSpec(min_ndim=1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def forward(self, x, training=False):
        shape = tuple(x.shape)
        return x.reshape([shape[0], -1] if len(shape) > 1 else [shape[0], 1]), shape

    def backward(self, ctx, dy, need_dx=True):
        return dy.reshape(list(ctx)) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["data_format"] = "channels_last"
        return config
