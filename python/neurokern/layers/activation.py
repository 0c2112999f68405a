"""Activation: y = f(x) elementwise (or over the last axis for softmax), f from neurokern.activations.

Forward and backward are the activation object's kernels: `forward(x) -> y` and
`backward(dy, x, y) -> dx` (dx OVERWRITTEN; no weights). A model may fuse this layer's backward
with the loss (softmax + cross-entropy): backward_from_pre_activation then passes dz through.
"""
from neurokern import activations
from neurokern.layers.base import Layer

__all__ = ["Activation"]


class Activation(Layer):
    supports_masking = True  # a (batch, timesteps) mask passes through unchanged
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._linear = getattr(self.activation, "name", None) == "linear"

    def forward(self, x, training=False):
        if self._linear:
            return x, (x, x)
        y = self.activation.forward(x)
        return y, (x, y)

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx or self._linear:
            return dy if need_dx else None
        x, y = ctx
        return self.activation.backward(dy, x, y)

    @property
    def output_activation(self):
        return None if self._linear else self.activation

    def backward_from_pre_activation(self, ctx, dz, need_dx=True):
        return dz if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config
