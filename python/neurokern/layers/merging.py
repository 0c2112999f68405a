"""Merging layers (Keras): combine a list of tensors of one shape into one tensor. No weights.

    Add()([a, b, ...])          y = a + b + ...            da = db = ... = dy
    Subtract()([a, b])          y = a - b                  da = dy, db = -dy
    Multiply()([a, b, ...])     y = a * b * ...            da = dy * (product of the others)
    Average()([a, b, ...])      y = (a + b + ...) / n      da = db = ... = dy / n
    Concatenate(axis=-1)([a, b, ...])
                                y = the inputs side by side along `axis` (the other axes must match)
                                da, db, ... = the matching slices of dy

Every backward OVERWRITES (returns fresh input gradients, or None when need_dx is False).

Concatenate has no copy-with-offset kernel to call, so it moves rows with the embedding kernels: view
every tensor as rows of g floats (g divides each input's block along and after `axis`), scatter each
input's rows into their places in a zero-filled y (ops.embedding_backward, which adds into y: a copy,
since each row of y receives exactly one input row), and gather them back out of dy in the backward
(ops.embedding). The row-index tables are integer bookkeeping, made once per input shape.

The functional forms add([a, b]), subtract, multiply, average, concatenate([a, b], axis) call a new
layer, as in Keras.
"""
import math
import numbers

import numpy as np

import neurokern as nk
from neurokern import ops
from neurokern.layers.base import Layer, _shape_str
from neurokern.ops._util import new_output

__all__ = ["Add", "Subtract", "Multiply", "Average", "Concatenate", "add", "subtract", "multiply", "average",
           "concatenate"]


class _Merge(Layer):
    """Base of the merging layers: a list of at least two inputs of one shape (Concatenate relaxes this)."""

    _multi_input = True
    _exact_inputs = None  # Subtract: exactly 2

    def _check_list(self, shapes, producers=None):
        if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"layer '{self.name}' ({type(self).__name__}) should be called on a list of inputs. "
                             f"Received: input_shape={shapes!r}")
        shapes = [tuple(None if d is None else int(d) for d in s) for s in shapes]
        if self._exact_inputs is not None and len(shapes) != self._exact_inputs:
            raise ValueError(f"layer '{self.name}' ({type(self).__name__}) should be called on exactly "
                             f"{self._exact_inputs} inputs. Received: {len(shapes)} inputs")
        if len(shapes) < 2:
            raise ValueError(f"layer '{self.name}' ({type(self).__name__}) should be called on a list of at least 2 "
                             f"inputs. Received: {len(shapes)} input")
        return shapes

    def _maybe_build(self, input_shape, producer=None):
        shapes = self._check_list(input_shape)
        self.check_input_shape(shapes, producer)
        if not self.built:
            self.build(shapes)
            self.built = True
            self._build_shape = shapes
        return shapes

    def check_input_shape(self, shapes, producer=None):
        """Every input must have the same shape (None matches anything)."""
        shapes = self._check_list(shapes)
        first = shapes[0]
        for i, s in enumerate(shapes[1:], start=1):
            if len(s) != len(first) or any(a is not None and b is not None and a != b for a, b in zip(first, s)):
                names = "" if not producer else f" (outputs of layers {list(producer)})"
                raise ValueError(f"layer '{self.name}' ({type(self).__name__}) needs inputs of one shape, but input 0 "
                                 f"has shape {_shape_str(first)} and input {i} has shape {_shape_str(s)}{names}. "
                                 f"Received: input shapes {[_shape_str(x) for x in shapes]}")

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        # the most specific size on each axis (the batch axis stays None when any input's is)
        return tuple(next((s[a] for s in shapes if s[a] is not None), None) for a in range(len(shapes[0])))

    @property
    def input_shape(self):
        if self._build_shape is None:
            raise AttributeError(f"layer '{self.name}' has not been built yet, so it has no input shape")
        return list(self._build_shape)

    def _check_tensors(self, xs):
        if not isinstance(xs, (list, tuple)):
            raise TypeError(f"layer '{self.name}' ({type(self).__name__}) takes a list of tensors. Received: "
                            f"{type(xs).__name__}")
        self._check_list([tuple(x.shape) for x in xs])
        self.check_input_shape([tuple(x.shape) for x in xs])
        return list(xs)


class Add(_Merge):
    def forward(self, xs, training=False):
        xs = self._check_tensors(xs)
        y = ops.add(xs[0], xs[1])
        for x in xs[2:]:
            ops.add(y, x, out=y)
        return y, len(xs)

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        return [dy] + [ops.copy(dy) for _ in range(ctx - 1)]


class Subtract(_Merge):
    _exact_inputs = 2

    def forward(self, xs, training=False):
        a, b = self._check_tensors(xs)
        return ops.sub(a, b), None

    def backward(self, ctx, dy, need_dx=True):
        return [dy, ops.scale(dy, -1.0)] if need_dx else None


class Multiply(_Merge):
    def forward(self, xs, training=False):
        xs = self._check_tensors(xs)
        y = ops.mul(xs[0], xs[1])
        for x in xs[2:]:
            ops.mul(y, x, out=y)
        return y, xs

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        out = []
        for i in range(len(ctx)):
            d = None
            for j, x in enumerate(ctx):  # dy times every input but the i-th
                if j != i:
                    d = ops.mul(dy, x) if d is None else ops.mul(d, x, out=d)
            out.append(d)
        return out


class Average(_Merge):
    def forward(self, xs, training=False):
        xs = self._check_tensors(xs)
        y = ops.add(xs[0], xs[1])
        for x in xs[2:]:
            ops.add(y, x, out=y)
        return ops.scale(y, 1.0 / len(xs), out=y), len(xs)

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        return [ops.scale(dy, 1.0 / ctx) for _ in range(ctx)]


class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"Concatenate: axis must be an integer. Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self._tables = {}

    def _axis(self, ndim):
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 1 <= axis < ndim:
            raise ValueError(f"layer '{self.name}' (Concatenate): axis {self.axis} is not a non-batch axis of inputs "
                             f"of rank {ndim}. Received: axis={self.axis}")
        return axis

    def check_input_shape(self, shapes, producer=None):
        """Same rank, and the same size on every axis except `axis`."""
        shapes = self._check_list(shapes)
        axis = self._axis(len(shapes[0]))
        first = shapes[0]
        for i, s in enumerate(shapes[1:], start=1):
            if len(s) != len(first) or any(a is not None and b is not None and a != b
                                           for k, (a, b) in enumerate(zip(first, s)) if k != axis):
                names = "" if not producer else f" (outputs of layers {list(producer)})"
                raise ValueError(f"A `Concatenate` layer ('{self.name}') requires inputs with matching shapes except "
                                 f"for the concatenation axis {self.axis}. Received: input_shape="
                                 f"{[_shape_str(x) for x in shapes]}: input {i} differs from input 0{names}")

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        axis = self._axis(len(shapes[0]))
        out = list(super().compute_output_shape([s[:axis] + (1,) + s[axis + 1:] for s in shapes]))
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def _table(self, shapes, device):
        """(g, rows of y, [row indices of y for each input's rows]) for these concrete input shapes."""
        key = (tuple(shapes), device)
        if key not in self._tables:
            axis = self._axis(len(shapes[0]))
            lead = math.prod(shapes[0][:axis])  # the batch and the axes before `axis`
            blocks = [math.prod(s[axis:]) for s in shapes]  # floats each input adds per leading index
            g = math.gcd(*blocks)
            total = sum(blocks) // g  # rows of y per leading index
            index, offset = [], 0
            for b in blocks:
                b //= g
                rows = (np.arange(lead, dtype=np.int64)[:, None] * total + offset + np.arange(b, dtype=np.int64))
                index.append(np.ascontiguousarray(rows.reshape(-1)))
                offset += b
            self._tables[key] = (g, lead * total, [nk.tensor(i, dtype="int64", device=device) for i in index])
        return self._tables[key]

    def forward(self, xs, training=False):
        xs = self._check_tensors(xs)
        shapes = [tuple(int(d) for d in x.shape) for x in xs]
        g, rows, index = self._table(shapes, _device(xs[0]))
        out_shape = self.compute_output_shape(shapes)
        y = new_output(None, (rows, g), xs[0])
        ops.fill(y, 0.0)
        for x, idx in zip(xs, index):
            ops.embedding_backward(y, x.reshape([-1, g]), idx)  # y[idx] += rows of x: a copy into zeros
        return y.reshape(list(out_shape)), shapes

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        g, _, index = self._table(ctx, _device(dy))
        table = dy.reshape([-1, g])
        return [ops.embedding(idx, table).reshape(list(s)) for idx, s in zip(index, ctx)]

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _device(t):
    return getattr(t, "device", "cpu")


def add(inputs, **kwargs):
    """Functional form of Add: Add(**kwargs)(inputs)."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
