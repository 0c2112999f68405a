"""The Layer base class: weights, building, configuration, and the forward/backward contract.

A layer subclass writes (Keras names, plus the two compute methods):

    __init__(..., **kwargs)      validate arguments ("... Received: units=-3"), call super().__init__(**kwargs)
    build(input_shape)           self.kernel = self.add_weight("kernel", shape, initializer)
    compute_output_shape(shape)  shapes with None for the batch axis
    forward(x, training)         -> (y, ctx)   a few neurokern.ops calls on Tensors
    backward(ctx, dy, need_dx=True)
                                 -> dx         OVERWRITES dx (a fresh Tensor, or None when need_dx is False);
                                               ACCUMULATES each weight's gradient (w.grad += ...) when
                                               w.grad is not None
    get_config()                 the constructor arguments, so that from_config(get_config()) round-trips

`ctx` holds everything the backward needs, so one layer object can appear twice in a graph (weight
sharing): each use gets its own ctx and the two backwards add into the same w.grad.

Who owns gradients: the model. Before a training step it gives each weight it trains a zeroed
`grad` Tensor (`Weight.grad`) and sets `grad = None` on the others (frozen layers, weights of a
sub-model frozen in this compiled model); a layer computes a weight gradient only when `grad` is set.

Loss fusion: a layer whose last step is an activation returns it from `output_activation`; when the
loss fuses with it (softmax + cross-entropy, sigmoid + binary cross-entropy) the model calls
`backward_from_pre_activation(ctx, dz)` with the gradient w.r.t. the activation's input instead.
"""
import re

import numpy as np

import neurokern as nk
from neurokern import device as _device
from neurokern import initializers, utils
from neurokern._core import Tensor

__all__ = ["Layer", "Weight", "InputSpec"]


# Bumped whenever a weight is created, a trainable flag changes or a model's layer list changes.
# Models cache their weight lists against it, so a training step does not walk every layer.
_structure_version = [0]


def _bump_structure():
    _structure_version[0] += 1


def _snake_case(name):
    # Keras's to_snake_case: a digit does not start a new word (Conv2D -> conv2d, MaxPooling2D -> max_pooling2d)
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Weight:
    """One layer variable: `value` (a float32 Tensor in the Keras layout) plus its optimizer-facing
    gradient buffer `grad` (a Tensor of the same shape, or None when not being trained).

    Acts like a Keras Variable for reading: `.numpy()` (a copy), `.shape`, `.name`, `.path`,
    `.trainable`, `np.asarray(w)`. `assign(array)` copies new values in place, so the Tensor object
    (and any optimizer state keyed on it) stays the same.
    """

    def __init__(self, value, name, path, trainable=True, regularizer=None):
        self.value = value
        self.name = name
        self.path = path
        self._trainable = bool(trainable)
        self.regularizer = regularizer
        self.grad = None
        self._grad_buffer = None

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        _bump_structure()

    @property
    def shape(self):
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def numpy(self):
        return np.array(self.value.numpy(), copy=True)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def assign(self, array):
        array = np.asarray(array)
        if tuple(array.shape) != self.shape:
            raise ValueError(f"weight '{self.path}' has shape {self.shape}; cannot assign a value of shape "
                             f"{tuple(array.shape)}")
        _device.copy_into(self.value, array)  # in place, on whichever device the value lives

    @property
    def device(self):
        return self.value.device

    def to(self, device):
        """Move the value to `device` (a new Tensor there; the gradient buffer follows on next use)."""
        self.value = _device.to_device(self.value, device)
        return self

    def grad_buffer(self):
        """The (cached) gradient Tensor for this weight; the model zeroes it and sets `grad` to it."""
        buf = self._grad_buffer
        if buf is None or tuple(buf.shape) != self.shape or buf.device != self.value.device:
            self._grad_buffer = nk.empty(self.shape, device=self.value.device)
        return self._grad_buffer

    def __repr__(self):
        return f"<Weight path={self.path} shape={self.shape} trainable={self.trainable}>"


class InputSpec:
    """What a layer accepts: exact `ndim`, `min_ndim`, and fixed sizes on some axes (`axes={-1: 784}`)."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})


class Layer:
    """Base of every layer (and of models). See the module docstring for the contract."""

    # Keras accepts these in any layer's constructor
    _BASE_KWARGS = {"input_shape", "input_dim", "batch_input_shape", "batch_size"}

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        unknown = set(kwargs) - self._BASE_KWARGS
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {sorted(unknown)}. "
                            f"Received: {', '.join(f'{k}={kwargs[k]!r}' for k in sorted(unknown))}")
        if dtype not in (None, "float32", np.float32):
            raise ValueError(f"{type(self).__name__}: neurokern layers compute in float32. Received: dtype={dtype!r}")
        if name is None:
            prefix = _snake_case(type(self).__name__)
            uid = utils.get_uid(prefix)
            name = prefix if uid == 1 else f"{prefix}_{uid - 1}"
        elif not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"a layer name must be a non-empty string without '/'. Received: name={name!r}")
        self.name = name
        self.dtype = "float32"
        self._trainable = bool(trainable)
        self._weights = []
        self.built = False
        self.input_spec = None
        self._build_shape = None      # (None, ...) shape the layer was built for
        self._batch_input_shape = self._parse_input_shape_kwargs(kwargs)
        self._inbound_nodes = []      # symbolic calls (layers/input_layer.py Node), in call order

    def _parse_input_shape_kwargs(self, kwargs):
        batch_size = kwargs.get("batch_size")
        if "batch_input_shape" in kwargs and kwargs["batch_input_shape"] is not None:
            return tuple(kwargs["batch_input_shape"])
        shape = kwargs.get("input_shape")
        if shape is None and kwargs.get("input_dim") is not None:
            dim = kwargs["input_dim"]
            if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim <= 0:
                raise ValueError(f"input_dim must be a positive integer. Received: input_dim={dim!r}")
            shape = (int(dim),)
        if shape is None:
            return None
        if isinstance(shape, (int, np.integer)):
            shape = (int(shape),)
        shape = tuple(None if d is None else int(d) for d in shape)
        if any(d is not None and d <= 0 for d in shape):
            raise ValueError(f"input_shape dimensions must be positive. Received: input_shape={shape}")
        return (batch_size,) + shape

    # ---- trainable -----------------------------------------------------------------------------
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        _bump_structure()
        for layer in self._sublayers():
            layer.trainable = value

    def _sublayers(self):
        return []

    # ---- weights -------------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="glorot_uniform", trainable=True, regularizer=None, dtype=None):
        """Create a float32 weight Tensor of `shape`, filled by `initializer` (name or Initializer)."""
        if dtype not in (None, "float32", np.float32):
            raise ValueError(f"{self.name}: weights are float32. Received: dtype={dtype!r}")
        shape = tuple(int(s) for s in shape)
        init = initializers.get(initializer)
        value = np.ascontiguousarray(init(shape), dtype=np.float32)
        if value.shape != shape:
            raise ValueError(f"{self.name}: initializer for '{name}' returned shape {value.shape}, expected {shape}")
        device = getattr(self, "_placed_on", None) or _device.get_default_device()
        w = Weight(nk.tensor(value, device=device), name, f"{self.name}/{name}", trainable, regularizer)
        self._weights.append(w)
        _bump_structure()
        return w

    @property
    def weights(self):
        """Every Weight, trainable ones first (Keras order)."""
        own = self._all_weights()
        return [w for w in own if w.trainable] + [w for w in own if not w.trainable]

    def _all_weights(self):
        out, seen = list(self._weights), {id(w) for w in self._weights}
        for layer in self._sublayers():
            for w in layer._all_weights():
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        out, seen = [w for w in self._weights if w.trainable], set()
        seen.update(id(w) for w in out)
        for layer in self._sublayers():
            for w in layer.trainable_weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def non_trainable_weights(self):
        train = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in train]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self):
        """NumPy copies of `weights`, in order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Copy NumPy arrays into the weights (same order as get_weights). Checks count and shapes first,
        so a failed call changes nothing."""
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(f"layer '{self.name}' expects {len(mine)} weight arrays "
                             f"({', '.join(w.name for w in mine) or 'none'}), but received {len(weights)}")
        arrays = []
        for w, a in zip(mine, weights):
            a = np.asarray(a)
            if tuple(a.shape) != w.shape:
                raise ValueError(f"layer '{self.name}' weight '{w.name}' has shape {w.shape}, but the provided "
                                 f"array has shape {tuple(a.shape)}")
            if a.dtype.kind not in "fiub":
                raise ValueError(f"layer '{self.name}' weight '{w.name}': expected numbers, got dtype {a.dtype}")
            arrays.append(a)
        for w, a in zip(mine, arrays):
            w.assign(a)

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                             "built. Call `build(input_shape)` (or the layer on data) first.")
        return int(sum(w.size for w in self.weights))

    # ---- shapes and building -------------------------------------------------------------------
    def build(self, input_shape):
        """Create weights for inputs of `input_shape` (batch axis None). Default: no weights."""
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _maybe_build(self, input_shape, producer=None):
        """Check `input_shape` against the spec, then build on first use. `producer` names the layer whose
        output this is, for error messages."""
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self.check_input_shape(input_shape, producer)
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._build_shape = input_shape
            self.check_input_shape(input_shape, producer)
        return input_shape

    def check_input_shape(self, shape, producer=None):
        """Raise a ValueError naming this layer when `shape` (batch axis included) does not fit."""
        spec = self.input_spec
        if spec is None:
            return
        where = f" (output of layer '{producer}')" if producer else ""
        if spec.ndim is not None and len(shape) != spec.ndim:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected ndim="
                             f"{spec.ndim}, found ndim={len(shape)}. Full shape received: {_shape_str(shape)}{where}")
        if spec.min_ndim is not None and len(shape) < spec.min_ndim:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                             f"min_ndim={spec.min_ndim}, found ndim={len(shape)}. Full shape received: "
                             f"{_shape_str(shape)}{where}")
        for axis, size in spec.axes.items():
            got = shape[axis] if -len(shape) <= axis < len(shape) else None
            if got is not None and size is not None and got != size:
                raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected axis "
                                 f"{axis} of input shape to have value {size}, but received input with shape "
                                 f"{_shape_str(shape)}{where}")

    @property
    def input_shape(self):
        if self._build_shape is None:
            raise AttributeError(f"layer '{self.name}' has not been built yet, so it has no input shape")
        return self._build_shape

    @property
    def output_shape(self):
        return self.compute_output_shape(self.input_shape)

    # ---- computing -----------------------------------------------------------------------------
    def forward(self, x, training=False):
        """(y, ctx) for a float32 Tensor x. Default: identity."""
        return x, None

    def backward(self, ctx, dy, need_dx=True):
        """dx for the output gradient dy (overwrites; may return None when need_dx is False)."""
        return dy

    # Loss fusion (see the module docstring): the activation applied last, or None.
    @property
    def output_activation(self):
        return None

    def backward_from_pre_activation(self, ctx, dz, need_dx=True):
        raise NotImplementedError(f"layer '{self.name}' has no output activation to fuse")

    # Merging layers (Add, Concatenate, ...) and models with several inputs take a list of tensors;
    # every other layer takes one tensor. A model with several outputs returns a list.
    _multi_input = False
    _multi_output = False

    def __call__(self, inputs, training=False):
        """Run the layer on a NumPy array or Tensor (returns the same kind), building it on first use.
        Called on symbolic tensors (from `Input(...)`), returns the symbolic output (functional graphs)."""
        from neurokern.layers.input_layer import KerasTensor

        if isinstance(inputs, KerasTensor) or (isinstance(inputs, (list, tuple)) and inputs
                                               and all(isinstance(t, KerasTensor) for t in inputs)):
            return self._call_symbolic(inputs)
        if isinstance(inputs, (list, tuple)) and any(isinstance(t, KerasTensor) for t in inputs):
            raise TypeError(f"layer '{self.name}' was called on a list mixing symbolic tensors (from Input(...)) and "
                            "data: pass only symbolic tensors to build a graph, or only arrays to compute")
        if self._multi_input or self._multi_output:
            return self._call_eager_multi(inputs, training)
        was_numpy = not isinstance(inputs, Tensor)
        # Tensors made inside the call (from NumPy inputs, by ops) go where the data or weights are.
        with _device.default_device(self.device if was_numpy else inputs.device):
            x = inputs if not was_numpy else nk.tensor(np.ascontiguousarray(inputs, dtype=np.float32))
            shape = tuple(x.shape)
            self._maybe_build((None,) + shape[1:])
            self.check_input_shape(shape)
            y, _ = self.forward(x, training=bool(training))
            return np.array(y.numpy(), copy=True) if was_numpy else y

    # ---- device --------------------------------------------------------------------------------
    @property
    def device(self):
        """Where this layer computes: set by .to(device); else where its weights are (the default device
        before it has any)."""
        placed = getattr(self, "_placed_on", None)
        if placed is not None:
            return placed
        own = self._all_weights()
        return own[0].value.device if own else _device.get_default_device()

    def to(self, device):
        """Move every weight (of this layer and its sublayers) to `device` ('cpu' or 'cuda'); weights
        created later (an unbuilt layer) are created there too. Returns self."""
        device = _device.normalize(device)
        if device != "cpu":
            _device.backend(device)  # fail before moving anything
        for w in self._weights:
            w.to(device)
        self._placed_on = device
        for layer in self._sublayers():
            layer.to(device)
        return self

    def _call_eager_multi(self, inputs, training):
        """__call__ on data for layers that take or return lists (same kinds out as in)."""
        many = isinstance(inputs, (list, tuple))
        items = list(inputs) if many else [inputs]
        if self._multi_input and not many:
            raise TypeError(f"layer '{self.name}' ({type(self).__name__}) takes a list of inputs. Received: a single "
                            f"{type(inputs).__name__}")
        was_numpy = not isinstance(items[0], Tensor)
        xs = [x if isinstance(x, Tensor) else nk.tensor(np.ascontiguousarray(x, dtype=np.float32)) for x in items]
        shapes = [(None,) + tuple(x.shape)[1:] for x in xs]
        self._maybe_build(shapes if self._multi_input else shapes[0])
        y, _ = self.forward(xs if self._multi_input else xs[0], training=bool(training))
        ys = list(y) if self._multi_output else [y]
        out = [np.array(t.numpy(), copy=True) if was_numpy else t for t in ys]
        return out if self._multi_output else out[0]

    def _call_symbolic(self, inputs):
        """Record a Node for this call on KerasTensors and return its symbolic output(s)."""
        from neurokern.layers.input_layer import Node

        many = isinstance(inputs, (list, tuple))
        tensors = list(inputs) if many else [inputs]
        if many and not self._multi_input:
            if len(tensors) != 1:
                raise ValueError(f"layer '{self.name}' ({type(self).__name__}) takes one input tensor, but it was "
                                 f"called on a list of {len(tensors)}. Merge them first (Concatenate, Add, ...). "
                                 f"Received: {tensors!r}")
            many = False
        if self._multi_input and not many:
            raise TypeError(f"layer '{self.name}' ({type(self).__name__}) takes a list of input tensors, e.g. "
                            f"{type(self).__name__}()([a, b]). Received: a single tensor {inputs!r}")
        producers = [t.history[0].name if t.history else None for t in tensors]
        if many:
            self._maybe_build([t.shape for t in tensors], producers)
            out = self.compute_output_shape([t.shape for t in tensors])
        else:
            self._maybe_build(tensors[0].shape, producers[0])
            out = self.compute_output_shape(tensors[0].shape)
        shapes = [tuple(s) for s in out] if self._multi_output else [tuple(out)]
        node = Node(self, tensors, many, shapes)
        return list(node.outputs) if self._multi_output else node.outputs[0]

    # ---- configuration -------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
