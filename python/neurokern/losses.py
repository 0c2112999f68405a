"""Keras-compatible losses (keras.losses) on neurokern's loss kernels (neurokern.ops, csrc/cpu/loss.cpp).

    loss = losses.get("sparse_categorical_crossentropy")
    value = loss(y_true, y_pred)                          # a float: mean over the batch
    value, dpred = loss.forward_backward(y_true, y_pred)  # and d value / d y_pred (a Tensor)

Every loss reduces like Keras's default "sum_over_batch_size": the per-sample loss over the last
axis, averaged over all samples. Inputs may be NumPy arrays or Tensors. As in Keras, y_true of
shape (N,) and y_pred of shape (N, 1) (or the reverse) are matched; other shape differences are a
ValueError naming both shapes.

When the model's last layer applies softmax (or sigmoid) and the loss is the matching cross-entropy
from probabilities, `fuses_with(activation)` is True and `fused_forward_backward(y_true, output)`
returns the gradient with respect to that layer's pre-activation in one cheap, stable step.

The functions (mse, mae, binary_crossentropy, ...) return per-sample losses, as Keras's do.
Differences from Keras: `get("mse")` returns a Loss object (the trainer needs its backward), and
only the default reduction is implemented; sample_weight is not.
"""
from neurokern import ops
from neurokern._core import Tensor
from neurokern.ops._util import as_input
from neurokern.tensor import tensor as _tensor

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "Huber", "LogCosh", "KLDivergence", "Poisson",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Hinge",
           "SquaredHinge", "CategoricalHinge", "CosineSimilarity",
           "mean_squared_error", "mse", "mean_absolute_error", "mae", "mean_absolute_percentage_error",
           "mape", "mean_squared_logarithmic_error", "msle", "huber", "log_cosh", "kl_divergence", "kld",
           "poisson", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity", "get", "serialize",
           "deserialize"]


def _match_ranks(y, p):
    """Keras's squeeze_or_expand_to_same_rank: (N,) vs (N, 1) are the same targets."""
    ys, ps = tuple(y.shape), tuple(p.shape)
    if ys != ps and len(ys) + 1 == len(ps) and ps[-1] == 1 and ps[:-1] == ys:
        return y.reshape(list(ps))
    if ys != ps and len(ps) + 1 == len(ys) and ys[-1] == 1 and ys[:-1] == ps:
        return y.reshape(list(ps))
    return y


class Loss:
    """Base class. A subclass names its kernel stem in `_op` and may fuse with an activation."""

    _op = None             # neurokern.ops stem: ops.<_op>(y_true, y_pred) and ops.<_op>_backward
    _fused_activation = None  # the activation whose backward folds into this loss (when probabilities)
    _fused_op = None          # ops function name of that fused backward

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction != "sum_over_batch_size":
            raise ValueError("neurokern losses implement only Keras's default reduction "
                             f"'sum_over_batch_size'. Received: reduction={reduction!r}")
        self.name = name or self._op  # Keras's default names are the function names
        self.reduction = reduction

    # the kernel's extra arguments: (from_logits[, label_smoothing]) for the cross-entropies, (delta,)
    # for Huber
    def _extra(self):
        return ()

    def _inputs(self, y_true, y_pred):
        p, _ = as_input(y_pred)
        if self._op == "sparse_categorical_crossentropy":
            return ops.loss.labels(y_true), p
        y, _ = as_input(y_true)
        if y.dtype != "float32":  # Keras casts targets to the predictions' dtype (0/1 int labels)
            y = _tensor(y, dtype="float32")
        return _match_ranks(y, p), p

    def __call__(self, y_true, y_pred):
        """The mean loss over the batch (a float)."""
        y, p = self._inputs(y_true, y_pred)
        return getattr(ops, self._op)(y, p, *self._extra())

    def forward_backward(self, y_true, y_pred):
        """(mean loss, d loss / d y_pred as a Tensor of y_pred's shape)."""
        y, p = self._inputs(y_true, y_pred)
        value = getattr(ops, self._op)(y, p, *self._extra())
        return value, getattr(ops, self._op + "_backward")(y, p, *self._extra())

    def fuses_with(self, activation_name):
        """True when d loss / d pre-activation of `activation_name` has a fused kernel."""
        return (self._fused_activation is not None and not getattr(self, "from_logits", False)
                and activation_name == self._fused_activation)

    def fused_forward_backward(self, y_true, activated_output):
        """(mean loss, d loss / d pre-activation) when the output layer applies the fused activation."""
        if self._fused_op is None or getattr(self, "from_logits", False):
            raise ValueError(f"{type(self).__name__}(from_logits={getattr(self, 'from_logits', False)}) "
                             "has no fused activation backward: check fuses_with() first")
        y, p = self._inputs(y_true, activated_output)
        value = getattr(ops, self._op)(y, p, *self._extra())
        return value, getattr(ops, self._fused_op)(y, p, *self._extra()[1:])  # minus from_logits

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _FromLogitsLoss(Loss):
    def __init__(self, from_logits=False, name=None, reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        if not isinstance(from_logits, bool):
            raise ValueError(f"from_logits must be True or False. Received: from_logits={from_logits!r}")
        self.from_logits = from_logits

    def _extra(self):
        return (self.from_logits,)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class MeanSquaredError(Loss):
    """mean((y_true - y_pred)^2) over the last axis, averaged over the batch."""
    _op = "mean_squared_error"


class MeanAbsoluteError(Loss):
    """mean(|y_true - y_pred|) over the last axis, averaged over the batch."""
    _op = "mean_absolute_error"


class MeanAbsolutePercentageError(Loss):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis, averaged over the batch."""
    _op = "mean_absolute_percentage_error"


class MeanSquaredLogarithmicError(Loss):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2), averaged over the batch."""
    _op = "mean_squared_logarithmic_error"


class Huber(Loss):
    """0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2 (e = y_pred - y_true); mean, then batch."""
    _op = "huber"

    def __init__(self, delta=1.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(name=name or "huber_loss", reduction=reduction)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta >= 0 \
                or delta == float("inf"):
            raise ValueError(f"delta must be a finite number >= 0. Received: delta={delta!r}")
        self.delta = float(delta)

    def _extra(self):
        return (self.delta,)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(Loss):
    """mean(log(cosh(y_pred - y_true))) over the last axis, averaged over the batch."""
    _op = "log_cosh"


class KLDivergence(Loss):
    """sum(y_true * log(y_true / y_pred)) over the last axis (both clipped to [1e-7, 1]), batch mean."""
    _op = "kl_divergence"


class Poisson(Loss):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis, averaged over the batch."""
    _op = "poisson"


class _SmoothedLoss(_FromLogitsLoss):
    def __init__(self, from_logits=False, label_smoothing=0.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(from_logits=from_logits, name=name, reduction=reduction)
        ok = isinstance(label_smoothing, (int, float)) and not isinstance(label_smoothing, bool) \
            and 0 <= label_smoothing <= 1
        if not ok:
            raise ValueError("label_smoothing must be a float in [0, 1]. "
                             f"Received: label_smoothing={label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def _extra(self):
        return (self.from_logits, self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_SmoothedLoss):
    """Keras binary cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7], or from logits);
    label_smoothing ls maps targets y -> y (1 - ls) + ls / 2."""
    _op = "binary_crossentropy"
    _fused_activation = "sigmoid"
    _fused_op = "sigmoid_binary_crossentropy_backward"


class CategoricalCrossentropy(_SmoothedLoss):
    """Keras categorical cross-entropy with one-hot (or soft) targets; label_smoothing ls maps
    targets y -> y (1 - ls) + ls / classes."""
    _op = "categorical_crossentropy"
    _fused_activation = "softmax"
    _fused_op = "softmax_cross_entropy_backward"


class SparseCategoricalCrossentropy(_FromLogitsLoss):
    """Categorical cross-entropy with integer labels of shape (N,) or (N, 1)."""
    _op = "sparse_categorical_crossentropy"
    _fused_activation = "softmax"
    _fused_op = "sparse_softmax_cross_entropy_backward"


class Hinge(Loss):
    """mean(max(1 - y_true * y_pred, 0)); 0/1 labels are converted to -1/1 first."""
    _op = "hinge"


class SquaredHinge(Loss):
    """mean(max(1 - y_true * y_pred, 0)^2); 0/1 labels are converted to -1/1 first."""
    _op = "squared_hinge"


class CategoricalHinge(Loss):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) per sample, batch mean."""
    _op = "categorical_hinge"


class CosineSimilarity(Loss):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over the last axis, averaged over the batch."""
    _op = "cosine_similarity"

    def __init__(self, axis=-1, name=None, reduction="sum_over_batch_size"):
        if axis != -1:
            raise ValueError(f"CosineSimilarity supports only the last axis. Received: axis={axis!r}")
        super().__init__(name=name, reduction=reduction)
        self.axis = axis

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# ---- functions: per-sample losses, as keras.losses.<name>(y_true, y_pred) -----------------------

def _per_sample(op, y_true, y_pred, *extra):
    p, _ = as_input(y_pred)
    if op == "sparse_categorical_crossentropy":
        y = ops.loss.labels(y_true)
    else:
        y = as_input(y_true)[0]
        y = _match_ranks(y if y.dtype == "float32" else _tensor(y, dtype="float32"), p)
    out = getattr(ops, op)(y, p, *extra, per_sample=True)
    return out if isinstance(y_pred, Tensor) else out.numpy()  # the kind of y_pred, as ops do


def mean_squared_error(y_true, y_pred):
    return _per_sample("mean_squared_error", y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return _per_sample("mean_absolute_error", y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    return _per_sample("mean_absolute_percentage_error", y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    return _per_sample("mean_squared_logarithmic_error", y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    return _per_sample("huber", y_true, y_pred, float(delta))


def log_cosh(y_true, y_pred):
    return _per_sample("log_cosh", y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return _per_sample("kl_divergence", y_true, y_pred)


def poisson(y_true, y_pred):
    return _per_sample("poisson", y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    return _per_sample("binary_crossentropy", y_true, y_pred, from_logits, label_smoothing)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    return _per_sample("categorical_crossentropy", y_true, y_pred, from_logits, label_smoothing)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return _per_sample("sparse_categorical_crossentropy", y_true, y_pred, from_logits)


def hinge(y_true, y_pred):
    return _per_sample("hinge", y_true, y_pred)


def squared_hinge(y_true, y_pred):
    return _per_sample("squared_hinge", y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    return _per_sample("categorical_hinge", y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    if axis != -1:
        raise ValueError(f"cosine_similarity supports only the last axis. Received: axis={axis!r}")
    return _per_sample("cosine_similarity", y_true, y_pred)


mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
kld = kl_divergence

# ---- lookup ---------------------------------------------------------------------------------------

_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber,
    LogCosh, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Hinge, SquaredHinge, CategoricalHinge, CosineSimilarity)}
# Keras's string names (function names and their aliases) -> class
_NAMES = {
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "huber": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "KLD": KLDivergence,
    "kullback_leibler_divergence": KLDivergence, "poisson": Poisson,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "cosine_similarity": CosineSimilarity,
}
_FUNCTIONS = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
              mean_absolute_percentage_error: MeanAbsolutePercentageError,
              mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber,
              log_cosh: LogCosh, kl_divergence: KLDivergence, poisson: Poisson,
              binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy, hinge: Hinge,
              squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
              cosine_similarity: CosineSimilarity}


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    cls = _CLASSES.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"unknown loss config: expected {{'class_name': one of {sorted(_CLASSES)}, "
                         f"'config': {{...}}}}. Received: config={config!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A Loss from a name ('mse', 'sparse_categorical_crossentropy', 'MeanSquaredError', ...), a Loss
    instance or class, one of this module's functions, or a serialized config. None gives None."""
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    elif callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Known names: "
                     f"{', '.join(sorted(_NAMES))} (or a class name: {', '.join(sorted(_CLASSES))})")
