"""TimeDistributed(layer): applies `layer` to every timestep of a (batch, timesteps, ...) input.

The inner layer sees one (batch * timesteps, ...) batch: the input is reshaped (no copy), the inner
forward/backward run once, and the result is reshaped back. The inner layer's weights are shared by
all timesteps, so its gradients sum over them (its backward accumulates).
"""
from neurokern.layers.base import InputSpec, Layer

__all__ = ["TimeDistributed"]


class TimeDistributed(Layer):
    supports_masking = True  # a (batch, timesteps) mask passes through unchanged
    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `Layer` instance. "
                             f"Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.input_spec = InputSpec(min_ndim=3)

    def _sublayers(self):
        return [self.layer]

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                             f"dimensions, received: {tuple(input_shape)}")
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))
        self.built = True

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def forward(self, x, training=False):
        n, t = x.shape[0], x.shape[1]
        y, ctx = self.layer.forward(x.reshape([n * t] + list(x.shape[2:])), training)
        return y.reshape([n, t] + list(y.shape[1:])), (ctx, n, t, list(x.shape[2:]))

    def backward(self, ctx, dy, need_dx=True):
        inner_ctx, n, t, in_tail = ctx
        dx = self.layer.backward(inner_ctx, dy.reshape([n * t] + list(dy.shape[2:])), need_dx)
        return None if dx is None else dx.reshape([n, t] + in_tail)

    def get_config(self):
        from neurokern.layers import serialize
        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        from neurokern.layers import deserialize
        config = dict(config)
        layer = deserialize(config.pop("layer"))
        return cls(layer, **config)
