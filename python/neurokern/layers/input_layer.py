"""Input / InputLayer: declare the input shape of a model (no computation).

    model = Sequential([Input(shape=(784,)), Dense(512, activation="relu"), ...])

`Input(shape)` returns a symbolic KerasTensor (shape with None for the batch axis) that remembers its
InputLayer; a layer called on KerasTensors builds itself and returns the symbolic output, which is
the start of a functional graph. `Sequential` accepts either an Input tensor or an InputLayer.

Each such call is recorded as a Node: (layer, the KerasTensors it was called on, the KerasTensors it
returned). A KerasTensor's `history` is (layer, node, output index); for an Input it is
(InputLayer, None, 0). A layer keeps its nodes in call order (`_inbound_nodes`), so "dense[1][0]" in
a summary means output 0 of the second call of layer 'dense' (Keras's notation).
"""
import numpy as np

from neurokern.layers.base import Layer, _shape_str

__all__ = ["Input", "InputLayer", "KerasTensor"]


class KerasTensor:
    """A symbolic tensor: `shape` (batch axis None), `dtype`, and `history = (layer, node, index)`."""

    def __init__(self, shape, dtype="float32", history=None, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.history = history
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={_shape_str(self.shape)}, dtype={self.dtype}, name={self.name}>"


class Node:
    """One call of `layer` on symbolic tensors. `multi_input`: the layer was called on a list (merging
    layers, models with several inputs); `outputs` holds one KerasTensor per output of the layer."""

    def __init__(self, layer, inputs, multi_input, output_shapes):
        self.layer = layer
        self.inputs = list(inputs)
        self.multi_input = bool(multi_input)
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        self.outputs = [KerasTensor(shape, history=(layer, self, i)) for i, shape in enumerate(output_shapes)]

    def __repr__(self):
        return f"<Node {self.layer.name}[{self.index}] inputs={[t.history[0].name for t in self.inputs]}>"


def _check_shape(shape, batch_size):
    if shape is None:
        raise ValueError("Input needs a shape, the per-sample shape without the batch axis, "
                         "e.g. Input(shape=(784,)). Received: shape=None")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Input shape must be a tuple of positive integers (or None). Received: shape={shape!r}") \
            from None
    if any(d is not None and d <= 0 for d in shape):
        raise ValueError(f"Input shape dimensions must be positive. Received: shape={shape}")
    if batch_size is not None and (isinstance(batch_size, bool) or int(batch_size) <= 0):
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    return shape


class InputLayer(Layer):
    """Holds the model's input shape; forward is the identity."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, **kwargs):
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
        for old in ("input_shape", "batch_input_shape"):  # Keras 2 spellings
            if shape is None and kwargs.get(old) is not None:
                shape = tuple(kwargs.pop(old))[1:] if old == "batch_input_shape" else kwargs.pop(old)
        kwargs.pop("input_shape", None)
        kwargs.pop("batch_input_shape", None)
        shape = _check_shape(shape, batch_size)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._batch_input_shape = (None if batch_size is None else int(batch_size),) + shape
        self._build_shape = (None,) + shape
        self.built = True
        self.output = KerasTensor((None,) + shape, history=(self, None, 0), name=self.name)

    def get_config(self):
        return {"name": self.name, "batch_shape": self._batch_input_shape, "dtype": self.dtype}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """A symbolic input tensor of per-sample `shape` (Keras `keras.Input`)."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape).output
