"""Dropout: during training, zero each input with probability `rate` and scale the rest by
1 / (1 - rate) (inverted dropout, Keras semantics); at inference, the identity.

The mask is never stored: ops.dropout is counter-based, so the backward recomputes the same mask
from the (rate, seed) saved in ctx. Each training call draws a fresh seed from the layer's own
generator when `seed` is given (Keras SeedGenerator), else from neurokern's generator (so
utils.set_random_seed makes runs repeatable).
"""
import math

import numpy as np

from neurokern import ops, utils
from neurokern.layers.base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    supports_masking = True  # a (batch, timesteps) mask passes through unchanged
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        ok = not isinstance(rate, bool) and isinstance(rate, (int, float, np.integer, np.floating))
        if not ok or not math.isfinite(float(rate)) or not 0.0 <= float(rate) < 1.0:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value between 0 and 1 "
                             "(1 excluded: nothing would be kept). "
                             f"Received: rate={rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=...) is not supported yet; drop independently per "
                                      f"element. Received: noise_shape={noise_shape!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer. Received: seed={seed!r}")
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = None if seed is None else int(seed)
        self._rng = np.random.default_rng(self.seed) if self.seed is not None else None

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            return x, None
        seed = utils.draw_seed(self._rng)
        return ops.dropout(x, self.rate, seed), seed

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        if ctx is None:  # inference-mode forward or rate 0: identity
            return dy
        return ops.dropout_backward(dy, self.rate, ctx)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
