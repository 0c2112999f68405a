"""Model: the training engine shared by Sequential and functional models (Model(inputs, outputs)).

A subclass provides `layers`, `forward(x, training) -> (y, ctx)`, `backward(ctx, dy, need_dx)`,
`output_activation` / `backward_from_pre_activation` and `_build_from_shape(input_shape)`. This file
does the rest, with Keras semantics: compile, fit, evaluate, predict, train_on_batch, test_on_batch,
summary, get/set/save/load weights.

One training step (`_train_step`):
    for each trained weight w: w.grad = zeroed buffer      ops.fill (other weights: grad = None)
    y, ctx = forward(x, training=True)
    if the output activation fuses with the loss (softmax + CE, sigmoid + BCE):
        loss, dz = loss.fused_forward_backward(y_true, y);  backward_from_pre_activation(ctx, dz)
    else:
        loss, dy = loss.forward_backward(y_true, y);        backward(ctx, dy)
    regularizers: loss += penalty(w); w.grad += d penalty
    optimizer.apply_gradients([(w.grad, w.value) ...])

Sample weights (sample_weight= / class_weight=): Keras 'sum_over_batch_size', loss = sum_i w_i l_i / N.
The gradient is the plain mean's gradient with row i scaled by w_i (ops.mul); the loss value comes
from the per-sample form of the loss (neurokern.losses.<name>). As in Keras 3, `metrics` are not
weighted.

Trainable weights are fixed when compile() is called (the Keras 3 rule: a sub-model can be trained
in one compiled model and frozen in another, as in the GAN recipe). If the trainable set changes
after compile, fit/train_on_batch warn once and keep training the compiled set: call compile() again
to pick up the change.

Several inputs / outputs (functional models): x and y are lists of arrays (one per input / output,
in the order of Model(inputs, outputs)) or dicts keyed by the Input / output layer names. The arrays
are batched together (_Arrays). The loss is one loss for every output, or a list / dict with one per
output; the total is sum_k loss_weights[k] * loss_k, each output's gradient scaled by its weight. Logs
hold 'loss' and, per output, '<output>_loss' and '<output>_<metric>' (metrics given once apply to every
output, or as a list / dict per output).

NumPy is used here only for data handling: converting inputs, batching, shuffling, broadcasting
sample weights, reading out predictions for metrics.
"""
import functools
import math
import warnings

import numpy as np

import neurokern as nk
from neurokern import callbacks as callbacks_module
from neurokern import device as _device
from neurokern import metrics as metrics_module
from neurokern import ops, utils
from neurokern._core import Tensor
from neurokern.layers import base as layers_base
from neurokern.layers.base import Layer, _shape_str, _snake_case
from neurokern.models import _dataset_loop, saving

__all__ = ["Model"]


def _positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _verbose(value):
    if value == "auto":
        return 1
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto'. Received: verbose={value!r}")
    return int(value)


def _to_numpy(data, what):
    if isinstance(data, Tensor):
        data = data.numpy()
    if isinstance(data, dict) or (isinstance(data, (list, tuple)) and any(isinstance(d, (np.ndarray, Tensor))
                                                                          for d in data)):
        raise TypeError(f"{what} must be a single array: models with several inputs/outputs are not supported "
                        f"yet. Received: {what} of type {type(data).__name__}")
    arr = np.asarray(data)
    if arr.dtype == object:
        raise TypeError(f"{what} must be numeric (e.g. a float32 NumPy array). Received: {what} with dtype object")
    return arr


def _on_model_device(method):
    """Run a public entry point with the default device set to the model's: the tensors it makes from
    NumPy batches, labels and sample weights then live next to the weights."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _device.default_device(self.device):
            return method(self, *args, **kwargs)
    return wrapper

class _Arrays:
    """The arrays of several inputs (or outputs), batched together: len() is the number of samples,
    [rows] takes the same rows of every array, .shape lists their shapes."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, rows):
        return _Arrays([a[rows] for a in self.arrays])

    @property
    def shape(self):
        return [a.shape for a in self.arrays]


def _contiguous(x):
    return _Arrays([np.ascontiguousarray(a) for a in x.arrays]) if isinstance(x, _Arrays) else np.ascontiguousarray(x)


def _tensors(x):
    """The Tensor(s) a model's forward takes for a batch."""
    return [nk.tensor(np.ascontiguousarray(a)) for a in x.arrays] if isinstance(x, _Arrays) \
        else nk.tensor(np.ascontiguousarray(x))


def _split_io(data, count, names, what, optional=False):
    """A list of `count` items from a list / tuple / dict (by name) given for several inputs or outputs.
    optional: a dict may leave names out (None for them: an output without loss or metrics)."""
    if isinstance(data, dict):
        missing = [] if optional else [n for n in names if n not in data]
        extra = sorted(set(data) - set(names))
        if missing or extra:
            raise ValueError(f"{what} as a dict must have one entry per name {names}. Missing: {missing}; "
                             f"unknown: {extra}")
        return [data.get(n) for n in names]
    if not isinstance(data, (list, tuple)):
        raise ValueError(f"the model has {count} {'inputs' if what.startswith('x') else 'outputs'} {names}: pass "
                         f"{what} as a list of {count} arrays (or a dict keyed by those names). Received: {what} of "
                         f"type {type(data).__name__}")
    if len(data) != count:
        raise ValueError(f"the model has {count} {'inputs' if what.startswith('x') else 'outputs'} {names}, but {what} "
                         f"holds {len(data)} arrays")
    return list(data)


class Model(Layer):
    """Base class of models. `Model(inputs=..., outputs=...)` builds a functional model (models/functional.py);
    use Sequential for a stack of layers."""

    def __new__(cls, *args, **kwargs):
        if cls is Model:  # Keras: Model(inputs, outputs) is a functional model
            from neurokern.models.functional import Functional
            return super().__new__(Functional)
        return super().__new__(cls)

    @classmethod
    def from_config(cls, config):
        if cls is Model:  # Keras: Model.from_config(functional_model.get_config())
            from neurokern.models.functional import Functional
            return Functional.from_config(config)
        return super().from_config(config)

    def __init__(self, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._metric_ids = []
        self._metrics = None
        self._compiled_trainable = []
        self._warned_trainable = False
        self._loss_kind = ""
        self._losses, self._loss_kinds, self._loss_weights = [None], [""], [1.0]
        self._metric_outputs = []
        self._output_losses = []
        self._cache_version = None
        self._cache = None

    # ---- subclass API ---------------------------------------------------------------------------
    @property
    def layers(self):
        raise NotImplementedError

    def _sublayers(self):
        return self.layers

    def _build_from_shape(self, input_shape):
        raise NotImplementedError

    def _first_layer_name(self):
        """Name of the layer that receives the model's input (for error messages)."""
        return self.layers[0].name if self.layers else self.name

    def _last_layer_name(self):
        """Name of the layer that produces the model's output (for error messages)."""
        return self.layers[-1].name if self.layers else self.name

    # ---- device ----------------------------------------------------------------------------------
    def to(self, device):
        """Move every weight and the optimizer's state to `device` ('cpu' or 'cuda'); fit/evaluate/predict then
        run there, taking NumPy inputs as usual. Returns self."""
        before = {id(w): w.value for w in self._all_weights()}
        super().to(device)
        if self.optimizer is not None:
            moved = {id(before[id(w)]): w.value for w in self._all_weights()}
            self.optimizer._move_state(moved)
        return self

    def _input_count(self):
        return 1

    def _output_count(self):
        return 1

    def _output_names(self):
        return [self._last_layer_name()]

    def _input_names(self):
        return [layer.name for layer in getattr(self, "_input_layers", [])] or ["input"]

    def _per_output(self, value, what):
        """`value` for each output: the same for all, or a list / dict (by output name) with one per output."""
        k, names = self._output_count(), self._output_names()
        if isinstance(value, dict):
            return _split_io(value, k, names, what, optional=True)
        if isinstance(value, (list, tuple)) and k > 1:
            return _split_io(value, k, names, what)
        return [value] * k

    # ---- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=1, jit_compile="auto"):
        """Set the optimizer, loss and metrics, and fix the set of trainable weights (see module doc).
        `run_eagerly`, `steps_per_execution` and `jit_compile` are accepted for Keras compatibility and ignored
        (neurokern always runs eagerly, one step at a time)."""
        from neurokern import losses, optimizers

        if weighted_metrics is not None:
            raise NotImplementedError("weighted_metrics is not supported yet: metrics are not weighted")
        k = self._output_count() if self.built else 1
        if k == 1 and (isinstance(loss, dict) or (isinstance(loss, (list, tuple)) and len(loss) != 1)):
            raise ValueError(f"the model has one output: pass one loss. Received: loss={loss!r}")
        if k == 1 and isinstance(loss, (list, tuple)):
            loss = loss[0]
        self.optimizer = optimizers.get(optimizer)
        per_loss = [losses.get(item) if item is not None else None for item in self._per_output(loss, "loss")]
        self._losses = per_loss
        self.loss = per_loss[0] if k == 1 else loss if isinstance(loss, (list, tuple, dict)) else per_loss[0]
        # snake_case of the loss CLASS: a user-chosen loss name must not change how labels are read
        self._loss_kinds = [_snake_case(type(item).__name__) if item is not None else "" for item in per_loss]
        self._loss_kind = self._loss_kinds[0]
        if loss_weights is None:
            self._loss_weights = [1.0] * k
        else:
            if isinstance(loss_weights, (int, float)) and not isinstance(loss_weights, bool):
                loss_weights = [loss_weights] * k
            self._loss_weights = [float(v) for v in _split_io(loss_weights, k, self._output_names(), "loss_weights")]
            if any(not math.isfinite(v) or v < 0 for v in self._loss_weights):
                raise ValueError(f"loss_weights must be finite and non-negative. Received: loss_weights={loss_weights!r}")
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        if isinstance(metrics, dict) or (k > 1 and any(isinstance(m, (list, tuple, dict)) for m in metrics)):
            per = _split_io(metrics, k, self._output_names(), "metrics", optional=True)
            per = [[] if m is None else [m] if isinstance(m, (str, metrics_module.Metric)) or callable(m) else list(m)
                   for m in per]
        else:
            metrics = list(metrics)
            if k > 1 and any(not isinstance(m, str) for m in metrics):
                raise ValueError("a model with several outputs cannot share one metric object between them: give "
                                 "metric names (applied to every output), or a list / dict with one entry per output")
            per = [list(metrics) for _ in range(k)]
        for ms in per:
            for m in ms:  # fail at compile, not at the first batch
                if not (isinstance(m, str) and m in ("accuracy", "acc")):
                    metrics_module.get(m)
        self._metric_ids = per[0] if k == 1 else per
        self._metrics = None
        self._compiled_trainable = self._current_trainable() if self.built else None
        self._warned_trainable = False
        self.compiled = True

    def _loss_name(self):
        return self._loss_kind

    def _is_sparse_loss(self):
        return "sparse" in self._loss_name()

    @property
    def metrics_names(self):
        if not self.compiled:
            return []
        if self._output_count() == 1:
            return ["loss"] + [m.name for m in (self._metrics or [])]
        names = self._output_names()
        return ["loss"] + [f"{n}_loss" for n in names] + \
            [f"{names[k]}_{m.name}" for k, m in zip(self._metric_outputs, self._metrics or [])]

    @property
    def metrics(self):
        return list(self._metrics or [])

    def _build_metrics(self, y_true_shape, y_pred_shape):
        if self._metrics is None and self._output_count() > 1:
            self._metrics, self._metric_outputs = [], []
            for k, ids in enumerate(self._metric_ids):
                for m in ids:
                    self._metrics.append(metrics_module.resolve(m, self._loss_kinds[k], y_true_shape[k],
                                                                y_pred_shape[k])
                                         if isinstance(m, str) else metrics_module.get(m))
                    self._metric_outputs.append(k)
            return self._metrics
        if self._metrics is None:
            self._metrics = [metrics_module.resolve(m, self._loss_name(), y_true_shape, y_pred_shape)
                             if isinstance(m, str) else metrics_module.get(m) for m in self._metric_ids]
            names = [m.name for m in self._metrics]
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise ValueError(f"two metrics are named {sorted(dup)}: give them distinct names")
        return self._metrics

    def reset_metrics(self):
        for m in self._metrics or []:
            m.reset_state()

    # ---- trainable bookkeeping -------------------------------------------------------------------
    def _weight_lists(self):
        """(all weights, trainable now, regularized), recomputed only when layers, weights or trainable flags
        changed anywhere (layers_base._structure_version)."""
        version = layers_base._structure_version[0]
        if self._cache_version != version:
            every = self._all_weights()
            self._cache = (every, self._current_trainable(), [w for w in every if w.regularizer is not None])
            self._cache_version = version
        return self._cache

    def _current_trainable(self):
        out, seen = [], set()
        for w in self.trainable_weights:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    def _trained_weights(self):
        """The weights a training step updates: the set fixed at compile(), with a one-time warning if the
        trainable flags changed since."""
        if self._compiled_trainable is None:  # compiled before the model was built
            self._compiled_trainable = self._current_trainable()
        current = self._weight_lists()[1]
        if not self._warned_trainable and [id(w) for w in current] != [id(w) for w in self._compiled_trainable]:
            self._warned_trainable = True
            before = {id(w) for w in self._compiled_trainable}
            now = {id(w) for w in current}
            changed = sorted({w.path.split("/")[0] for w in self._all_weights() if (id(w) in before) != (id(w) in now)})
            warnings.warn(
                f"model '{self.name}': the trainable weights changed after compile() (layers {changed}). Training "
                "keeps updating the set fixed at compile() (Keras 3 rule). This is expected in the GAN recipe "
                "(discriminator.trainable = False before compiling the combined model); otherwise call compile() "
                "again.", UserWarning, stacklevel=4)
        return self._compiled_trainable

    # ---- data handling ---------------------------------------------------------------------------
    def _check_built_for(self, x_shape):
        """Build from the data's shape on first use, or check the data against the built input shape."""
        shape = (None,) + tuple(int(d) for d in x_shape[1:])
        if not self.built:
            self._build_from_shape(shape)
            return
        expected = self.input_shape
        first = self._first_layer_name()
        if len(expected) != len(shape) or any(e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
            raise ValueError(f"Input 0 of layer '{first}' is incompatible with the layer: model '{self.name}' "
                             f"expects inputs of shape {_shape_str(expected)}, but received input with shape "
                             f"{_shape_str((x_shape[0],) + tuple(x_shape[1:]))}")

    def _prepare_x(self, x, what="x"):
        if x is None:
            raise ValueError(f"{what} is None: pass the input data as a NumPy array")
        k = self._input_count()
        if k == 1 and isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], (np.ndarray, Tensor)):
            x = x[0]  # Model(inputs=[a], ...) takes [array] as well as array
        if k > 1:
            names = self._input_names()
            arrays = [self._prepare_one_x(a, f"{what}[{i}]") for i, a in
                      enumerate(_split_io(x, k, names, what))]
            sizes = {len(a) for a in arrays}
            if len(sizes) != 1:
                raise ValueError(f"Data cardinality is ambiguous: the arrays of {what} hold "
                                 f"{[len(a) for a in arrays]} samples. Make sure all arrays contain the same number "
                                 "of samples.")
            for i, (a, expected) in enumerate(zip(arrays, self.input_shape)):
                if len(expected) != a.ndim or any(e is not None and e != s for e, s in zip(expected[1:], a.shape[1:])):
                    raise ValueError(f"Input {i} ('{names[i]}') of model '{self.name}' is incompatible: expected "
                                     f"shape {_shape_str(expected)}, but received input with shape "
                                     f"{_shape_str(a.shape)}")
            return _Arrays(arrays)
        arr = self._prepare_one_x(x, what)
        self._check_built_for(arr.shape)
        return arr

    def _prepare_one_x(self, x, what):
        arr = _to_numpy(x, what)
        if arr.ndim == 0:
            raise ValueError(f"{what} must have a batch axis. Received: {what} with shape ()")
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{what} must be numeric. Received: {what} with dtype {arr.dtype}")
        return np.ascontiguousarray(arr, dtype=np.float32)

    def _prepare_y(self, y, n, what="y"):
        if y is None:
            raise ValueError(f"{what} is None: fit/evaluate need targets")
        k = self._output_count()
        if k == 1:
            if isinstance(y, (list, tuple)) and len(y) == 1 and isinstance(y[0], (np.ndarray, Tensor)):
                y = y[0]
            return self._prepare_one_y(y, n, what, self.output_shape, self._is_sparse_loss(), self._last_layer_name())
        names = self._output_names()
        return _Arrays([self._prepare_one_y(a, n, f"{what}[{i}]", shape, "sparse" in kind, name)
                        for i, (a, shape, kind, name) in enumerate(zip(_split_io(y, k, names, what), self.output_shape,
                                                                       self._loss_kinds, names))])

    def _prepare_one_y(self, y, n, what, out_shape, sparse, out):
        arr = _to_numpy(y, what)
        if arr.ndim == 0:
            raise ValueError(f"{what} must have a batch axis. Received: {what} with shape ()")
        if len(arr) != n:
            raise ValueError(f"Data cardinality is ambiguous: x has {n} samples but {what} has {len(arr)}. Make sure "
                             "all arrays contain the same number of samples.")
        if sparse:
            if arr.dtype.kind == "f":
                if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                    raise ValueError(f"{what}: sparse_categorical_crossentropy needs integer class labels; got "
                                     "non-integer values")
            elif arr.dtype.kind not in "iub":
                raise TypeError(f"{what} must hold integer class labels. Received dtype {arr.dtype}")
            labels = arr.astype(np.int64)
            if labels.ndim == len(out_shape) and labels.shape[-1] == 1:
                labels = labels.reshape(labels.shape[:-1])
            if labels.shape[1:] != tuple(out_shape[1:-1]):
                raise ValueError(f"{what} has shape {arr.shape}, but the sparse loss expects one integer label per "
                                 f"sample for output '{out}' of shape {_shape_str(out_shape)}: shape "
                                 f"{_shape_str((n,) + tuple(out_shape[1:-1]))}. For one-hot {what} use "
                                 "loss='categorical_crossentropy'")
            classes = out_shape[-1]
            if labels.size and (labels.min() < 0 or (classes is not None and labels.max() >= classes)):
                raise ValueError(f"{what}: labels must be in [0, {classes}) for output '{out}' with {classes} units; "
                                 f"found values from {labels.min()} to {labels.max()}")
            return np.ascontiguousarray(labels)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{what} must be numeric. Received: {what} with dtype {arr.dtype}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if arr.ndim == len(out_shape) - 1 and out_shape[-1] == 1:
            arr = arr.reshape(arr.shape + (1,))
        if len(arr.shape) != len(out_shape) or any(o is not None and o != a
                                                   for o, a in zip(out_shape[1:], arr.shape[1:])):
            hint = ""
            if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1 and (out_shape[-1] or 0) > 1):
                hint = (f" For integer class labels use loss='sparse_categorical_crossentropy', or one-hot encode "
                        f"them with neurokern.utils.to_categorical({what}, {out_shape[-1]}).")
            raise ValueError(f"{what} has shape {arr.shape}, but the output of layer '{out}' has "
                             f"shape {_shape_str(out_shape)}: the target shape must match the output.{hint}")
        return arr

    def _prepare_sample_weight(self, sample_weight, class_weight, y, n, what="sample_weight"):
        """float32 (n,) per-sample loss weights from sample_weight and/or class_weight (multiplied), or None."""
        w = None
        if sample_weight is not None:
            w = _to_numpy(sample_weight, what)
            if w.dtype.kind not in "fiub":
                raise TypeError(f"{what} must be numeric. Received: {what} with dtype {w.dtype}")
            w = w.astype(np.float32)
            if w.ndim == 2 and w.shape[1] == 1:
                w = w[:, 0]
            if w.shape != (n,):
                raise ValueError(f"{what} must hold one weight per sample, shape ({n},). Received: {what} with shape "
                                 f"{w.shape}")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"{what} must be finite and non-negative")
        if class_weight is not None:
            if isinstance(y, _Arrays):
                raise NotImplementedError("class_weight with several outputs is not supported: pass sample_weight")
            if not isinstance(class_weight, dict) or not class_weight:
                raise ValueError("class_weight must be a dict {class index: weight}. "
                                 f"Received: class_weight={class_weight!r}")
            keys = sorted(int(k) for k in class_weight)
            if keys != list(range(len(keys))):
                raise ValueError("Expected `class_weight` to be a dict with keys from 0 to one less than the number of "
                                 f"classes. Received: class_weight={class_weight!r}")
            table = np.array([float(class_weight[k]) for k in keys], dtype=np.float32)
            if self._is_sparse_loss() or y.ndim == 1:
                labels = y.reshape(len(y), -1)[:, 0]
            elif y.shape[-1] == 1:  # binary targets
                labels = (y[:, 0] > 0.5)
            else:  # one-hot
                labels = np.argmax(y.reshape(len(y), -1), axis=-1)
            labels = np.asarray(labels).astype(np.int64)
            if labels.size and (labels.min() < 0 or labels.max() >= len(table)):
                raise ValueError(f"class_weight has weights for classes 0..{len(table) - 1}, but the targets hold "
                                 f"class {int(labels.max()) if labels.max() >= len(table) else int(labels.min())}")
            cw = table[labels]
            w = cw if w is None else w * cw
        return None if w is None else np.ascontiguousarray(w)

    # ---- one step --------------------------------------------------------------------------------
    def _assign_grads(self, trained):
        for w in self._weight_lists()[0]:
            w.grad = None
        for w in trained:
            g = w.grad_buffer()
            ops.fill(g, 0.0)
            w.grad = g

    def _weighted_loss(self, y_true_t, y_pred, w_np, output=0):
        """Keras 'sum_over_batch_size' with sample weights: sum_i w_i * loss_i / N, from the per-sample losses
        of the loss's functional form (neurokern.losses.<name>)."""
        import inspect

        from neurokern import losses
        loss_obj, kind = self._losses[output], self._loss_kinds[output]
        fn = getattr(losses, kind, None)
        if fn is None or not callable(fn):
            raise NotImplementedError(f"sample weights need a per-sample form of the loss {type(loss_obj).__name__}")
        # the loss object's settings (from_logits, label_smoothing, delta, ...) that the function takes
        params = inspect.signature(fn).parameters
        kwargs = {k: v for k, v in loss_obj.get_config().items() if k in params and k not in ("y_true", "y_pred")}
        per_sample = fn(y_true_t, y_pred, **kwargs)
        return ops.sum(ops.mul(per_sample, nk.tensor(w_np))) / len(w_np)

    @staticmethod
    def _scale_rows(d, w_np):
        """d[i, ...] *= w[i] in place: the gradient of the weighted mean from that of the plain mean."""
        w_full = np.ascontiguousarray(np.broadcast_to(w_np.reshape((-1,) + (1,) * (d.ndim - 1)), tuple(d.shape)))
        return ops.mul(d, nk.tensor(w_full), out=d)

    def _loss_and_backward(self, y_true_t, y_pred, ctx, trained, w_np=None):
        act = self.output_activation
        fused = act is not None and self.loss.fuses_with(getattr(act, "name", None))
        if not trained:
            loss = self.loss(y_true_t, y_pred)
        else:
            loss, d = (self.loss.fused_forward_backward if fused else self.loss.forward_backward)(y_true_t, y_pred)
            if w_np is not None:
                self._scale_rows(d, w_np)
            if fused:
                self.backward_from_pre_activation(ctx, d, need_dx=False)
            else:
                self.backward(ctx, d, need_dx=False)
        if w_np is not None:
            loss = self._weighted_loss(y_true_t, y_pred, w_np)
        return float(loss)

    def _multi_loss_and_backward(self, y_np, y_pred, ctx, trained, w_np=None):
        """Several outputs: total = sum_k loss_weights[k] * loss_k; one backward with every output's gradient.
        Sets self._output_losses (loss_k, unweighted, for the logs)."""
        total, per, grads = 0.0, [], []
        for k, (loss_obj, lw, y_k, p_k) in enumerate(zip(self._losses, self._loss_weights, y_np.arrays, y_pred)):
            if loss_obj is None:  # Keras: an output with loss None is not trained (its gradient is zero)
                per.append(0.0)
                grads.append(None)
                continue
            y_t = nk.tensor(np.ascontiguousarray(y_k))
            if trained:
                value, d = loss_obj.forward_backward(y_t, p_k)
                if w_np is not None:
                    self._scale_rows(d, w_np)
                if lw != 1.0:
                    ops.scale(d, lw, out=d)
                grads.append(d)
            else:
                value = loss_obj(y_t, p_k)
            if w_np is not None:
                value = self._weighted_loss(y_t, p_k, w_np, output=k)
            per.append(float(value))
            total += lw * float(value)
        if trained and any(d is not None for d in grads):
            self.backward(ctx, grads, need_dx=False)
        self._output_losses = per
        return total

    def _regularization(self, trained):
        """Penalty of every regularized weight; adds its gradient into the trained ones."""
        regularized = self._weight_lists()[2]
        if not regularized:
            return 0.0
        total, trained_ids = 0.0, {id(w) for w in trained}
        for w in regularized:
            total += w.regularizer.penalty(w.value)
            if id(w) in trained_ids:
                w.regularizer.accumulate_grad(w.grad, w.value)
        return total

    def _train_step(self, x_t, y_np, w_np=None):
        trained = self._trained_weights()
        self._assign_grads(trained)
        y_pred, ctx = self.forward(x_t, training=True)
        if isinstance(y_np, _Arrays):
            loss = self._multi_loss_and_backward(y_np, y_pred, ctx, trained, w_np)
        else:
            loss = self._loss_and_backward(nk.tensor(y_np), y_pred, ctx, trained, w_np)
        loss += self._regularization(trained)
        if trained:
            self.optimizer.apply_gradients([(w.grad, w.value) for w in trained])
        return loss, y_pred

    def _test_step(self, x_t, y_np, w_np=None):
        y_pred, ctx = self.forward(x_t, training=False)
        if isinstance(y_np, _Arrays):
            loss = self._multi_loss_and_backward(y_np, y_pred, ctx, [], w_np)
        else:
            y_t = nk.tensor(y_np)
            loss = float(self.loss(y_t, y_pred) if w_np is None else self._weighted_loss(y_t, y_pred, w_np))
        loss += sum(w.regularizer.penalty(w.value) for w in self._weight_lists()[2])
        return loss, y_pred

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before {what}().")
        if all(item is None for item in self._losses):
            raise ValueError(f"The model must be compiled with a loss before {what}(): "
                             "model.compile(optimizer=..., loss=...)")

    # ---- fit -------------------------------------------------------------------------------------
    @_on_model_device
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for `epochs` epochs (Keras semantics); returns the History callback.

        validation_split takes the LAST fraction of x/y (and of sample_weight) before shuffling, as Keras does.
        Each epoch shuffles the training samples with neurokern's generator when shuffle=True.
        class_weight {class: weight} (keys 0..C-1) multiplies into sample_weight (one weight per sample)."""
        self._require_compiled("fit")
        if _dataset_loop.is_dataset(x):  # batches from an iterable (models/_dataset_loop.py)
            return _dataset_loop.fit(self, x, y, batch_size, epochs, _verbose(verbose), callbacks, validation_data,
                                     initial_epoch, steps_per_epoch, validation_steps, validation_freq,
                                     sample_weight, class_weight)
        if steps_per_epoch is not None or validation_steps is not None:
            raise NotImplementedError("steps_per_epoch / validation_steps are for generators, which are not "
                                      "supported yet: pass NumPy arrays")
        batch_size = _positive_int("batch_size", batch_size, allow_none=True) or 32
        val_batch = _positive_int("validation_batch_size", validation_batch_size, allow_none=True) or batch_size
        validation_freq = _positive_int("validation_freq", validation_freq)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer. Received: epochs={epochs!r}")
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
            raise ValueError(f"initial_epoch must be a non-negative integer. Received: initial_epoch={initial_epoch!r}")
        verbose = _verbose(verbose)
        try:
            validation_split = float(validation_split)
        except (TypeError, ValueError):
            validation_split = float("nan")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1). Received: validation_split={validation_split!r}")

        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        w = self._prepare_sample_weight(sample_weight, class_weight, y, len(x))
        w_val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val). "
                                 f"Received: validation_data of type {type(validation_data).__name__}")
            x_val = self._prepare_x(validation_data[0], "validation_data[0]")
            y_val = self._prepare_y(validation_data[1], len(x_val), "validation_data[1]")
            if len(validation_data) == 3:
                w_val = self._prepare_sample_weight(validation_data[2], None, y_val, len(x_val), "validation_data[2]")
        elif validation_split > 0:
            split_at = int(math.floor(len(x) * (1.0 - validation_split)))
            if split_at == 0:  # (split_at < len(x) always holds for validation_split > 0)
                raise ValueError(f"validation_split={validation_split} leaves no training samples out of {len(x)}")
            x, x_val, y, y_val = x[:split_at], x[split_at:], y[:split_at], y[split_at:]  # (_Arrays slice too)
            if w is not None:
                w, w_val = w[:split_at], w[split_at:]
        else:
            x_val = y_val = None
        n = len(x)
        if n == 0:
            raise ValueError("fit received no samples (x is empty)")
        steps = math.ceil(n / batch_size)
        cbs = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                            verbose=verbose, epochs=epochs, steps=steps, mode="train")
        self.history = cbs.history
        self.stop_training = False
        self._build_metrics(y.shape, self.output_shape)
        logs = {}
        cbs.on_train_begin()
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch)
                order = utils.get_rng().permutation(n) if shuffle else None
                total, seen, out_totals = 0.0, 0, None
                for step in range(steps):
                    cbs.on_train_batch_begin(step)
                    batch = slice(step * batch_size, (step + 1) * batch_size)
                    rows = batch if order is None else order[batch]  # fancy indexing copies the shuffled batch
                    xb, yb = _contiguous(x[rows]), _contiguous(y[rows])
                    wb = None if w is None else np.ascontiguousarray(w[rows])
                    loss, y_pred = self._train_step(_tensors(xb), yb, wb)
                    total += loss * len(xb)
                    seen += len(xb)
                    out_totals = self._add_output_losses(out_totals, len(xb))
                    logs = self._logs(total / seen, yb, y_pred, out_totals, seen)
                    cbs.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                epoch_logs = dict(logs)
                if x_val is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate_arrays(x_val, y_val, val_batch, w=w_val)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                logs = epoch_logs
                if self.stop_training:
                    break
        finally:
            # also on KeyboardInterrupt: the weights are those of the last completed step, and callbacks
            # (e.g. EarlyStopping's restore) still get their on_train_end
            cbs.on_train_end(logs)
        return self.history

    def _add_output_losses(self, totals, n):
        """Running sums of the per-output losses of the last step (several outputs), weighted by batch size."""
        if self._output_count() == 1:
            return None
        step = [v * n for v in self._output_losses]
        return step if totals is None else [a + b for a, b in zip(totals, step)]

    def _logs(self, loss, y_np, y_pred, out_totals=None, seen=1):
        """Running logs for the current epoch: mean loss so far, and every metric updated with this batch."""
        logs = {"loss": loss}
        if isinstance(y_np, _Arrays):
            names = self._output_names()
            for name, t in zip(names, out_totals):
                logs[f"{name}_loss"] = t / seen
            preds = [p.numpy() for p in y_pred]
            for k, m in zip(self._metric_outputs, self._metrics):
                m.update_state(y_np.arrays[k], preds[k])
                logs[f"{names[k]}_{m.name}"] = float(m.result())
            return logs
        pred = y_pred.numpy()
        for m in self._metrics:
            m.update_state(y_np, pred)
            logs[m.name] = float(m.result())
        return logs

    # ---- evaluate / predict ----------------------------------------------------------------------
    def _evaluate_arrays(self, x, y, batch_size, cbs=None, w=None):
        """{'loss': mean loss, metric: value} over x/y in inference mode (metrics reset first)."""
        self._build_metrics(y.shape, self.output_shape)
        self.reset_metrics()
        total, seen, logs, out_totals = 0.0, 0, {}, None
        steps = math.ceil(len(x) / batch_size)
        for step in range(steps):
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            xb = x[step * batch_size:(step + 1) * batch_size]
            yb = y[step * batch_size:(step + 1) * batch_size]
            wb = None if w is None else w[step * batch_size:(step + 1) * batch_size]
            loss, y_pred = self._test_step(_tensors(xb), _contiguous(yb), wb)
            total += loss * len(xb)
            seen += len(xb)
            out_totals = self._add_output_losses(out_totals, len(xb))
            logs = self._logs(total / seen, yb, y_pred, out_totals, seen)
            if cbs is not None:
                cbs.on_test_batch_end(step, logs)
        self.reset_metrics()
        return logs

    @_on_model_device
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """[loss, *metrics] in inference mode (a float when there are no metrics; a dict with return_dict)."""
        self._require_compiled("evaluate")
        if _dataset_loop.is_dataset(x):
            return _dataset_loop.evaluate(self, x, y, batch_size, _verbose(verbose), callbacks, steps, return_dict,
                                          sample_weight)
        if steps is not None:
            raise NotImplementedError("evaluate(steps=...) is for generators, which are not supported yet")
        batch_size = _positive_int("batch_size", batch_size, allow_none=True) or 32
        verbose = _verbose(verbose)
        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        if len(x) == 0:
            raise ValueError("evaluate received no samples (x is empty)")
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                            steps=math.ceil(len(x) / batch_size), mode="test")
        cbs.on_test_begin()
        w = self._prepare_sample_weight(sample_weight, None, y, len(x))
        logs = self._evaluate_arrays(x, y, batch_size, cbs, w=w)
        cbs.on_test_end(logs)
        return self._format_logs(logs, return_dict)

    @_on_model_device
    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """Outputs for x in inference mode, as a NumPy array, computed `batch_size` samples at a time."""
        if _dataset_loop.is_dataset(x):
            return _dataset_loop.predict(self, x, batch_size, _verbose(verbose), steps, callbacks)
        if steps is not None:
            raise NotImplementedError("predict(steps=...) is for generators, which are not supported yet")
        batch_size = _positive_int("batch_size", batch_size, allow_none=True) or 32
        verbose = _verbose(verbose)
        x = self._prepare_x(x)
        n_steps = math.ceil(len(x) / batch_size)
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                            steps=n_steps, mode="predict")
        cbs.on_predict_begin()
        if self._output_count() > 1:
            parts = []
            for step in range(n_steps):
                cbs.on_predict_batch_begin(step)
                y_pred, _ = self.forward(_tensors(x[step * batch_size:(step + 1) * batch_size]), training=False)
                parts.append([np.array(p.numpy(), copy=True) for p in y_pred])
                cbs.on_predict_batch_end(step)
            cbs.on_predict_end()
            return [np.concatenate([p[k] for p in parts]) if parts else
                    np.zeros((0,) + tuple(s[1:]), np.float32) for k, s in enumerate(self.output_shape)]
        out = np.empty((len(x),) + tuple(self.output_shape[1:]), dtype=np.float32) \
            if all(d is not None for d in self.output_shape[1:]) else None
        parts = []
        for step in range(n_steps):
            cbs.on_predict_batch_begin(step)
            xb = _contiguous(x[step * batch_size:(step + 1) * batch_size])
            y_pred, _ = self.forward(_tensors(xb), training=False)
            if out is not None:
                out[step * batch_size:step * batch_size + len(xb)] = y_pred.numpy()
            else:
                parts.append(np.array(y_pred.numpy(), copy=True))
            cbs.on_predict_batch_end(step)
        cbs.on_predict_end()
        if out is None:
            out = np.concatenate(parts) if parts else np.zeros((0,) + tuple(self.output_shape[1:]), np.float32)
        return out

    @_on_model_device
    def predict_on_batch(self, x):
        x = self._prepare_x(x)
        y_pred, _ = self.forward(_tensors(x), training=False)
        if self._output_count() > 1:
            return [np.array(p.numpy(), copy=True) for p in y_pred]
        return np.array(y_pred.numpy(), copy=True)

    @_on_model_device
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on (x, y). Returns this batch's loss (and metrics on this batch): unlike
        Keras 3, values are per call, not running means across calls."""
        self._require_compiled("train_on_batch")
        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        w = self._prepare_sample_weight(sample_weight, class_weight, y, len(x))
        self._build_metrics(y.shape, self.output_shape)
        self.reset_metrics()
        loss, y_pred = self._train_step(_tensors(x), y, w)
        logs = self._logs(loss, y, y_pred, self._add_output_losses(None, 1))
        self.reset_metrics()
        return self._format_logs(logs, return_dict)

    @_on_model_device
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        w = self._prepare_sample_weight(sample_weight, None, y, len(x))
        self._build_metrics(y.shape, self.output_shape)
        self.reset_metrics()
        loss, y_pred = self._test_step(_tensors(x), y, w)
        logs = self._logs(loss, y, y_pred, self._add_output_losses(None, 1))
        self.reset_metrics()
        return self._format_logs(logs, return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return dict(logs)
        values = list(logs.values())  # loss, (per-output losses,) metrics: the order of metrics_names
        return values[0] if len(values) == 1 else values

    # ---- weights and files -----------------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True):
        """Write every weight to an .npz file at exactly `filepath` (see models/saving.py)."""
        import os
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{filepath!r} exists and overwrite=False")
        saving.save_weights(self, filepath)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False):
        """Read weights written by save_weights. A corrupt or mismatched file raises ValueError naming the
        layer, weight and shapes, and leaves the model unchanged. A Keras 2 .h5 / .hdf5 file is read by
        applications/_keras_h5.py (by topology, or by_name=True; needs h5py)."""
        if str(filepath).lower().endswith((".h5", ".hdf5")):
            from neurokern.applications._keras_h5 import load_weights_h5
            load_weights_h5(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)
            return
        if by_name:
            raise NotImplementedError("load_weights(by_name=True) is for Keras .h5 files")
        if skip_mismatch:
            raise NotImplementedError("load_weights(skip_mismatch=True) is not supported")
        saving.load_weights(self, filepath)

    def save(self, filepath, overwrite=True):
        """Architecture (JSON config) + weights in one .npz; read back with neurokern.models.load_model."""
        import os
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{filepath!r} exists and overwrite=False")
        saving.save_weights(self, filepath, config={"class_name": type(self).__name__, "config": self.get_config()})

    def get_layer(self, name=None, index=None):
        if index is not None:
            if name is not None:
                raise ValueError("Provide only a layer name or a layer index, not both")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}.")

    # ---- summary ---------------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False):
        """Print the Keras-style table: Layer (type) | Output Shape | Param #, then the parameter totals."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                             "calling the model on a batch of data (or give the first layer an input shape).")
        # functional models add Keras's "Connected to" column: one line per inbound tensor
        connections = self._summary_connections() if hasattr(self, "_summary_connections") else None
        rows = []
        for layer in self.layers:
            shape = self._summary_output_shape(layer) if connections is not None else _shape_str(layer.output_shape)
            row = [f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}"]
            links = connections.get(id(layer), []) if connections is not None else []
            if connections is not None:
                row.append(links[0] if links else "")
            row.append("Y" if layer.trainable else "N")
            rows.append([row] + [["", "", ""] + [link] + [""] for link in links[1:]])
        headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connections is not None else [])
        headers.append("Trainable")
        ncols = len(headers) if show_trainable else len(headers) - 1
        if connections is None:
            line_length = line_length or 65
            positions = positions or ([.45, .85, 1.0] if ncols == 3 else [.33, .55, .67, 1.0])
        else:  # Keras's layout for models with a Connected to column
            line_length = line_length or 98
            positions = positions or ([.33, .55, .67, 1.0] if ncols == 4 else [.3, .5, .6, .88, 1.0])
        if positions[-1] <= 1:
            positions = [int(line_length * p) for p in positions]
        # never truncate: widen a column if some entry does not fit
        lines_of_rows = [line for r in rows for line in r]
        widths, prev = [], 0
        for i, pos in enumerate(positions[:ncols]):
            need = max(len(r[i]) for r in lines_of_rows + [headers]) + 2
            widths.append(max(pos - prev, need))
            prev = pos
        total_width = sum(widths)

        def fmt(cells):
            return " " + "".join(str(c).ljust(w) for c, w in zip(cells[:ncols], widths)).rstrip()

        lines = [f'Model: "{self.name}"', "_" * total_width, fmt(headers), "=" * total_width]
        for i, r in enumerate(rows):
            lines.extend(fmt(line) for line in r)
            lines.append("_" * total_width if i < len(rows) - 1 else "=" * total_width)
        if not rows:
            lines.append("=" * total_width)
        trainable = sum(w.size for w in self.trainable_weights)
        total = sum(w.size for w in self.weights)
        lines += [f"Total params: {total:,} ({_bytes(total * 4)})",
                  f"Trainable params: {trainable:,} ({_bytes(trainable * 4)})",
                  f"Non-trainable params: {total - trainable:,} ({_bytes((total - trainable) * 4)})"]
        slots = getattr(self.optimizer, "variables", None) if self.optimizer is not None else None
        if slots:  # optimizer state exists once training has started (listed apart from the model's totals)
            n = int(sum(t.size for t in slots))
            lines.append(f"Optimizer params: {n:,} ({_bytes(n * 4)})")
        lines.append("_" * total_width)
        out = print_fn or print
        for line in lines:
            out(line)


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024.0
