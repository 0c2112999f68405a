"""Seeding, label encoding and session helpers (Keras: keras.utils).

neurokern keeps ONE random generator of its own (a NumPy PCG64 `Generator`). Everything random in
the library draws from it unless given an explicit seed:
  - weight initializers (initial values are drawn in NumPy, then copied into Tensors),
  - Dropout (each training call draws a fresh 32-bit seed for the counter-based dropout kernel),
  - the per-epoch shuffle in `Model.fit`.

`set_random_seed(n)` reseeds it together with Python's `random` and NumPy's legacy global
generator, so two runs with the same seed produce bit-identical weights after `fit` (given the same
thread count: see "not covered" below).

Not covered by `set_random_seed`:
  - independent NumPy generators you create yourself (`np.random.default_rng()`),
  - floating-point reduction order in multi-threaded kernels if you change `set_num_threads`
    between the two runs.
"""
import random as _py_random

import numpy as np

__all__ = ["set_random_seed", "get_rng", "draw_seed", "to_categorical", "clear_session", "get_uid"]

# neurokern's generator. Unseeded, it starts from OS entropy (like Keras without a seed).
_rng = np.random.default_rng()


def set_random_seed(seed):
    """Seed Python `random`, NumPy's global generator and neurokern's own generator.

    After this call, building and training the same model on the same data gives bit-identical
    weights. See the module docstring for what it does not cover.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed needs a non-negative integer. Received: seed={seed!r}")
    global _rng
    seed = int(seed)
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)  # the legacy global generator only takes 32-bit seeds
    _rng = np.random.default_rng(seed)


def get_rng():
    """neurokern's generator (a numpy.random.Generator): use it for library randomness."""
    return _rng


def draw_seed(rng=None):
    """A fresh 31-bit integer seed for a counter-based kernel (dropout), from `rng` or the global one."""
    return int((rng if rng is not None else _rng).integers(0, 2**31 - 1))


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels (Keras semantics).

    `y` of shape (N,) or (N, 1) (or any shape: a trailing axis of 1 is dropped) becomes
    (..., num_classes). `num_classes` defaults to max(y) + 1. Labels must be integers in
    [0, num_classes).
    """
    y = np.asarray(y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("to_categorical needs integer class labels; got non-integer values. "
                             "Received: y with dtype " + str(y.dtype))
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise ValueError(f"to_categorical needs integer class labels. Received: y with dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.ndim >= 2 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if num_classes is None:
        if y.size == 0:
            raise ValueError("to_categorical cannot infer num_classes from empty labels: pass "
                             "num_classes. Received: num_classes=None")
        num_classes = int(y.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer. Received: num_classes={num_classes!r}")
    num_classes = int(num_classes)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)].flat[0]
        raise ValueError(f"to_categorical: label {int(bad)} is out of range; labels must be in "
                         f"[0, {num_classes}). Received: num_classes={num_classes}")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


def __getattr__(name):
    if name == "Progbar":  # keras.utils.Progbar
        from neurokern.callbacks import Progbar
        return Progbar
    raise AttributeError(f"module 'neurokern.utils' has no attribute {name!r}")


# ---- layer naming (Keras: backend.get_uid / clear_session) --------------------------------------
_uids = {}


def get_uid(prefix):
    """1 for the first call with `prefix`, then 2, 3 ... (layer names: dense, dense_1, dense_2)."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


def clear_session():
    """Reset automatic layer naming, so the next Dense is called 'dense' again (Keras semantics)."""
    _uids.clear()
