"""LeakyReLU (Keras layer): y = x where x > 0, else negative_slope * x. Default slope 0.3 (the layer's
Keras default; the function keras.activations.leaky_relu defaults to 0.2).

    y  = ops.leaky_relu(x, negative_slope)
    dx = ops.leaky_relu_backward(dy, x, negative_slope)     OVERWRITES; no weights

`alpha=` (the Keras 2 name) is accepted with the same deprecation warning Keras 3 gives.
"""
import math
import numbers
import warnings

from neurokern import ops
from neurokern.layers.base import Layer

__all__ = ["LeakyReLU"]


class LeakyReLU(Layer):
    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", UserWarning, stacklevel=2)
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real) \
                or not math.isfinite(negative_slope) or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                             f"Expected a float. Received: negative_slope={negative_slope!r}")
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def forward(self, x, training=False):
        return ops.leaky_relu(x, self.negative_slope), x

    def backward(self, ctx, dy, need_dx=True):
        return ops.leaky_relu_backward(dy, ctx, self.negative_slope) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config
