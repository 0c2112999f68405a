"""Embedding (Keras): integer indices (batch, ...) -> rows of `embeddings` (input_dim, output_dim).

Forward is ops.embedding (a gather); backward is ops.embedding_backward, a scatter-add that
ACCUMULATES into embeddings.grad (repeated indices add up). Indices are not differentiable: the
backward returns None. Models feed float32 batches, so float inputs holding integral values are
converted to int32 indices (exact up to 2^24); an index outside [0, input_dim) or a non-integral
value raises IndexError / ValueError naming it.

mask_zero=True: compute_mask(indices) gives the (batch, timesteps) mask (index != 0) that recurrent
layers accept (`lstm(embedded, mask=emb.compute_mask(indices))` in direct calls; models pass it on by
themselves, see models/sequential.py).
"""
import numpy as np

import neurokern as nk
from neurokern import initializers, ops
from neurokern._core import Tensor
from neurokern.layers.base import InputSpec, Layer

__all__ = ["Embedding"]


def _positive_int(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"Both `input_dim` and `output_dim` should be positive integers. Received: {name}={v!r}")
    return int(v)


class Embedding(Layer):
    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", mask_zero=False, input_length=None,
                 **kwargs):
        input_dim = _positive_int(input_dim, "input_dim")
        output_dim = _positive_int(output_dim, "output_dim")
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self.input_spec = InputSpec(min_ndim=1)
        self.embeddings = None

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _indices(self, x):
        """int32/int64 indices from a Tensor or array (float values must be integral)."""
        if isinstance(x, Tensor):
            if x.dtype in ("int32", "int64"):
                return x
            x = x.numpy()
        arr = np.asarray(x)
        if arr.dtype.kind == "f":
            bad = arr != np.floor(arr)
            if np.any(bad) or not np.all(np.isfinite(arr)):
                pos = np.argwhere(bad | ~np.isfinite(arr))[0]
                raise ValueError(f"layer '{self.name}': indices must be integers; found {float(arr[tuple(pos)])!r} at "
                                 f"position {tuple(int(p) for p in pos)}")
            if arr.size and np.max(np.abs(arr)) >= 2 ** 31:
                raise IndexError(f"layer '{self.name}': index {np.max(np.abs(arr)):.0f} is out of range for "
                                 f"input_dim={self.input_dim}")
            arr = arr.astype(np.int32)
        elif arr.dtype.kind not in "iu":
            raise TypeError(f"layer '{self.name}': indices must be integers. Received: dtype {arr.dtype}")
        elif arr.dtype not in (np.int32, np.int64):
            arr = arr.astype(np.int64)
        return nk.tensor(np.ascontiguousarray(arr))

    def compute_mask(self, inputs, mask=None):
        """(batch, timesteps) float32 mask (index != 0), or None when mask_zero is False."""
        if not self.mask_zero:
            return None
        idx = self._indices(inputs).numpy()
        return (idx != 0).astype(np.float32)

    def forward(self, x, training=False):
        idx = self._indices(x)
        y = ops.embedding(idx, self.embeddings.value)
        return y, idx

    def backward(self, ctx, dy, need_dx=True):
        if self.embeddings.grad is not None:
            ops.embedding_backward(self.embeddings.grad, dy, ctx)
        return None  # indices have no gradient

    def __call__(self, inputs, training=False):
        from neurokern.layers.input_layer import KerasTensor

        if isinstance(inputs, KerasTensor):
            return super().__call__(inputs, training)
        was_numpy = not isinstance(inputs, Tensor)
        shape = tuple(np.shape(inputs)) if was_numpy else tuple(inputs.shape)
        self._maybe_build((None,) + shape[1:])
        y, _ = self.forward(inputs, training=bool(training))
        return np.array(y.numpy(), copy=True) if was_numpy else y

    def get_config(self):
        config = super().get_config()
        init = self.embeddings_initializer
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(init) if isinstance(init, initializers.Initializer)
            else init,
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        })
        return config
