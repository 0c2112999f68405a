"""Metrics (Keras semantics): stateful objects with update_state / result / reset_state.

Metrics read out predictions, so they run in NumPy (float64) on copies of the model's outputs; they
never feed gradients. Names in History follow Keras: the string you pass ('accuracy', 'acc', 'mae')
or the object's name ('auc', 'root_mean_squared_error').

'accuracy' / 'acc' are resolved per model (`resolve`), as Keras does: binary accuracy when the loss
is binary cross-entropy or the output has one unit, sparse categorical accuracy for integer labels
(the sparse loss, or labels with one axis fewer than the output), categorical accuracy otherwise.

AUC is the EXACT ROC area (the Mann-Whitney rank statistic with ties counted as 1/2, equal to the
trapezoid rule over every distinct threshold), not Keras' 200-threshold approximation: it keeps the
scores seen since reset_state (O(samples) memory) and ranks them in result().
"""
import math

import numpy as np

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError",
           "AUC", "Precision", "Recall", "get", "resolve"]

_EPS = 1e-7  # Keras backend epsilon: probabilities are clipped to [eps, 1 - eps]


def _np(a):
    if hasattr(a, "numpy") and not isinstance(a, np.ndarray):
        a = a.numpy()
    return np.asarray(a)


def _pair(y_true, y_pred):
    y_true, y_pred = _np(y_true), _np(y_pred).astype(np.float64)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred have different numbers of samples: {len(y_true)} and {len(y_pred)}")
    return y_true, y_pred


def _match(y_true, y_pred):
    """y_true as float64 in y_pred's shape ((N,) labels against an (N, 1) output are reshaped)."""
    y_true = y_true.astype(np.float64)
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size:
        y_true = y_true.reshape(y_pred.shape)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    return y_true


class Metric:
    """Base class: accumulate with update_state(y_true, y_pred), read with result(), clear with reset_state()."""

    def __init__(self, name=None, dtype=None):
        self.name = name or _default_name(type(self))
        self.dtype = "float32"
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        pass

    reset_states = reset_state

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Stateless one-shot value (Keras: update a fresh copy and return the result)."""
        fresh = type(self).from_config(self.get_config())
        fresh.update_state(y_true, y_pred, sample_weight)
        return fresh.result()

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _default_name(cls):
    import re
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls.__name__)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


class Mean(Metric):
    """Weighted running mean of the values passed to update_state(values, sample_weight=None)."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = _np(values).astype(np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            w = np.broadcast_to(_np(sample_weight).astype(np.float64), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Mean over samples of fn(y_true, y_pred) -> one value per sample."""

    def __init__(self, fn, name=None, dtype=None, **fn_kwargs):
        self._fn, self._fn_kwargs = fn, fn_kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _pair(y_true, y_pred)
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


# ---- per-sample functions (NumPy, float64) --------------------------------------------------------
def accuracy(y_true, y_pred):
    return (_match(y_true, y_pred) == y_pred).astype(np.float64).reshape(len(y_pred), -1).mean(axis=1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true = _match(y_true, y_pred)
    return (y_true == (y_pred > threshold)).astype(np.float64).reshape(len(y_pred), -1).mean(axis=1)


def categorical_accuracy(y_true, y_pred):
    y_true = _match(y_true, y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64).reshape(len(y_pred), -1) \
        .mean(axis=1)


def _labels(y_true, y_pred):
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(f"sparse labels of shape {np.asarray(y_true).shape} do not match predictions of shape "
                         f"{y_pred.shape}: expected one integer label per sample")
    return labels.astype(np.int64)


def sparse_categorical_accuracy(y_true, y_pred):
    return (_labels(y_true, y_pred) == np.argmax(y_pred, axis=-1)).astype(np.float64).reshape(len(y_pred), -1) \
        .mean(axis=1)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    y_true = _match(y_true, y_pred)
    if from_logits:  # log(sigmoid(z)) = -softplus(-z), log(1 - sigmoid(z)) = -softplus(z)
        per = y_true * np.logaddexp(0, -y_pred) + (1 - y_true) * np.logaddexp(0, y_pred)
    else:
        p = np.clip(y_pred, _EPS, 1 - _EPS)
        per = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    return per.reshape(len(y_pred), -1).mean(axis=1)


def _log_probs(y_pred, from_logits):
    if from_logits:
        z = y_pred - y_pred.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    p = y_pred / y_pred.sum(axis=-1, keepdims=True)
    return np.log(np.clip(p, _EPS, 1 - _EPS))


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    y_true = _match(y_true, y_pred)
    return -(y_true * _log_probs(y_pred, from_logits)).sum(axis=-1).reshape(len(y_pred), -1).mean(axis=1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    labels = _labels(y_true, y_pred)
    if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[-1]):
        raise ValueError(f"labels must be in [0, {y_pred.shape[-1]}); got values from {labels.min()} to "
                         f"{labels.max()}")
    logp = np.take_along_axis(_log_probs(y_pred, from_logits), labels[..., None], axis=-1)[..., 0]
    return -logp.reshape(len(y_pred), -1).mean(axis=1)


def mean_absolute_error(y_true, y_pred):
    return np.abs(_match(y_true, y_pred) - y_pred).reshape(len(y_pred), -1).mean(axis=1)


def mean_squared_error(y_true, y_pred):
    return np.square(_match(y_true, y_pred) - y_pred).reshape(len(y_pred), -1).mean(axis=1)


# ---- metric classes -----------------------------------------------------------------------------
class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        threshold = float(threshold)
        if not math.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number. Received: threshold={threshold}")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=bool(from_logits))


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype, from_logits=bool(from_logits))


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=bool(from_logits))


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """sqrt(mean of squared errors over every element seen)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _pair(y_true, y_pred)
        err = np.square(_match(y_true, y_pred) - y_pred)
        if sample_weight is not None:
            sample_weight = _np(sample_weight).reshape((len(err),) + (1,) * (err.ndim - 1))
        super().update_state(err, sample_weight)

    def result(self):
        return math.sqrt(super().result())


class _Scores(Metric):
    """Keeps (label, score) pairs of a binary problem: labels in {0, 1}, scores any real numbers."""

    def reset_state(self):
        self._labels, self._scores = [], []

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise NotImplementedError(f"{type(self).__name__} does not support sample_weight yet")
        y_true, y_pred = _pair(y_true, y_pred)
        y_true = _match(y_true, y_pred).ravel()
        if np.any((y_true != 0) & (y_true != 1)):
            raise ValueError(f"{type(self).__name__} needs binary labels (0 or 1); got other values")
        self._labels.append(y_true)
        self._scores.append(y_pred.ravel())

    def _collected(self):
        if not self._labels:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(self._labels), np.concatenate(self._scores)


class AUC(_Scores):
    """Exact ROC AUC: P(score of a positive > score of a negative) + P(equal) / 2, from average ranks.
    With only one class seen it returns 0.0 (as Keras' thresholded AUC does)."""

    def __init__(self, name="auc", dtype=None, curve="ROC", from_logits=False):
        if curve != "ROC":
            raise NotImplementedError(f"only the ROC curve is implemented. Received: curve={curve!r}")
        self.from_logits = bool(from_logits)  # ranks are the same for logits and probabilities
        super().__init__(name=name, dtype=dtype)

    def result(self):
        labels, scores = self._collected()
        pos = int(labels.sum())
        neg = labels.size - pos
        if pos == 0 or neg == 0:
            return 0.0
        order = np.argsort(scores, kind="mergesort")
        sorted_scores = scores[order]
        ranks = np.empty(scores.size, dtype=np.float64)
        # average rank (1-based) over each run of tied scores
        starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
        ends = np.r_[starts[1:], scores.size]
        avg = (starts + ends + 1) / 2.0
        ranks[order] = np.repeat(avg, ends - starts)
        u = ranks[labels == 1].sum() - pos * (pos + 1) / 2.0
        return float(u / (pos * neg))

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}


class Precision(_Scores):
    def __init__(self, thresholds=0.5, name="precision", dtype=None):
        self.thresholds = float(thresholds)
        super().__init__(name=name, dtype=dtype)

    def _counts(self):
        labels, scores = self._collected()
        pred = scores > self.thresholds
        return float((pred & (labels == 1)).sum()), float(pred.sum()), float((labels == 1).sum())

    def result(self):
        tp, pred_pos, _ = self._counts()
        return tp / pred_pos if pred_pos else 0.0

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds}


class Recall(Precision):
    def __init__(self, thresholds=0.5, name="recall", dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self):
        tp, _, real_pos = self._counts()
        return tp / real_pos if real_pos else 0.0


_CLASSES = [Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanAbsoluteError, MeanSquaredError,
            RootMeanSquaredError, AUC, Precision, Recall]
_BY_NAME = {_default_name(c): c for c in _CLASSES}
_BY_NAME.update({c.__name__: c for c in _CLASSES})
_BY_NAME.update({"mae": MeanAbsoluteError, "mse": MeanSquaredError, "auc": AUC, "rmse": RootMeanSquaredError,
                 "bce": BinaryCrossentropy})


def get(identifier):
    """A new Metric from a name ('mae', 'auc', 'AUC', 'binary_accuracy', ...) or the instance itself.
    The instance takes the name you passed, as in Keras' history ('mae' stays 'mae'). 'accuracy' here is
    exact-match Accuracy: models resolve it with `resolve` instead."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = "accuracy" if identifier == "acc" else identifier
        cls = _BY_NAME.get(key)
        if cls is None:
            raise ValueError(f"unknown metric {identifier!r}; known: {sorted(set(_BY_NAME) | {'acc'})}. "
                             f"Received: metric={identifier!r}")
        m = cls()
        m.name = identifier
        return m
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"could not interpret metric. Received: metric={identifier!r}")


def resolve(identifier, loss_name=None, y_true_shape=None, y_pred_shape=None):
    """get(), plus Keras' choice of accuracy for 'accuracy' / 'acc' (see the module docstring)."""
    if not (isinstance(identifier, str) and identifier in ("accuracy", "acc")):
        return get(identifier)
    loss_name = loss_name or ""
    units = y_pred_shape[-1] if y_pred_shape else None
    sparse_labels = (y_true_shape is not None and y_pred_shape is not None and units != 1 and
                     (len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1))
    if "binary_crossentropy" in loss_name or units == 1:
        m = BinaryAccuracy()
    elif "sparse_categorical" in loss_name or sparse_labels:
        m = SparseCategoricalAccuracy()
    else:
        m = CategoricalAccuracy()
    m.name = identifier
    return m
