"""Weight initializers (Keras formulas). They return NumPy float32 arrays: initial values only.

    init = initializers.get("glorot_uniform")
    w = init((784, 512))            # np.ndarray, float32

Fans (Keras `compute_fans`): a 2-d shape (in, out) has fan_in = in, fan_out = out; a kernel of
shape (..., in, out) with more axes multiplies both by the receptive field size prod(shape[:-2]);
a 1-d shape has fan_in = fan_out = shape[0].

VarianceScaling(scale, mode, distribution) draws with variance scale / n, n = fan_in, fan_out or
their mean:
  uniform            U(-limit, limit),  limit = sqrt(3 * scale / n)
  truncated_normal   N(0, stddev) cut at 2 stddev, stddev = sqrt(scale / n) / 0.87962566103423978
                     (the constant is the std of a unit normal truncated to [-2, 2])
  untruncated_normal N(0, sqrt(scale / n))
glorot_* = (1, fan_avg), he_* = (2, fan_in), lecun_* = (1, fan_in); their normal variants are
truncated, as in Keras.

Randomness: an initializer built with `seed=` draws from its own generator seeded with it (same
values on every call, as Keras); without a seed it draws from neurokern's generator
(neurokern.utils.set_random_seed makes that reproducible).
"""
import math

import numpy as np

from neurokern import utils

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
           "LecunNormal", "get", "serialize", "deserialize"]


def compute_fans(shape):
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _check_shape(shape):
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise ValueError(f"an initializer needs a shape (tuple of ints). Received: shape={shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"shape dimensions must be >= 0. Received: shape={shape}")
    return shape


def _check_dtype(dtype):
    if dtype not in (None, "float32", np.float32):
        raise ValueError(f"neurokern weights are float32. Received: dtype={dtype!r}")


class Initializer:
    """Base class: `__call__(shape, dtype=None) -> np.ndarray (float32)`, `get_config`, `from_config`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _rng(self):
        seed = getattr(self, "seed", None)
        return np.random.default_rng(seed) if seed is not None else utils.get_rng()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative integer. Received: seed={seed!r}")
    return None if seed is None else int(seed)


class Constant(Initializer):
    def __init__(self, value=0.0):
        try:
            self.value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"Constant needs a scalar value. Received: value={value!r}") from None

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return np.full(_check_shape(shape), self.value, dtype=np.float32)

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        if not float(minval) < float(maxval):
            raise ValueError(f"RandomUniform needs minval < maxval. Received: minval={minval}, maxval={maxval}")
        self.minval, self.maxval, self.seed = float(minval), float(maxval), _check_seed(seed)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return self._rng().uniform(self.minval, self.maxval, _check_shape(shape)).astype(np.float32)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        if not float(stddev) >= 0:
            raise ValueError(f"stddev must be >= 0. Received: stddev={stddev}")
        self.mean, self.stddev, self.seed = float(mean), float(stddev), _check_seed(seed)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return self._rng().normal(self.mean, self.stddev, _check_shape(shape)).astype(np.float32)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _truncated_normal(rng, shape, mean, stddev):
    """N(mean, stddev) restricted to [mean - 2 stddev, mean + 2 stddev] by redrawing the rest."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():  # each pass keeps ~95% of what it redraws
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return (mean + stddev * z).astype(np.float32)


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        return _truncated_normal(self._rng(), _check_shape(shape), self.mean, self.stddev)


class VarianceScaling(Initializer):
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if not float(scale) > 0:
            raise ValueError(f"scale must be > 0. Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {self._MODES}. Received: mode={mode!r}")
        if distribution == "normal":  # Keras alias
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {self._DISTRIBUTIONS}. "
                             f"Received: distribution={distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.seed = _check_seed(seed)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        shape = _check_shape(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return rng.uniform(-limit, limit, shape).astype(np.float32)
        if self.distribution == "truncated_normal":
            return _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / 0.87962566103423978)
        return rng.normal(0.0, math.sqrt(scale), shape).astype(np.float32)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class Orthogonal(Initializer):
    """Keras Orthogonal: a (rows, cols) view of the shape (rows = product of all but the last axis) is
    filled with Q of the QR decomposition of a standard normal matrix (sign-corrected by diag(R) so the
    result is uniformly distributed), transposed when rows < cols, times `gain`."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = float(gain), _check_seed(seed)

    def __call__(self, shape, dtype=None):
        _check_dtype(dtype)
        shape = _check_shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2. Received: shape={shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(np.float32)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


def _preset(name, scale, mode, distribution):
    class Preset(VarianceScaling):
        def __init__(self, seed=None):
            super().__init__(scale, mode, distribution, seed)

        def get_config(self):
            return {"seed": self.seed}

    Preset.__name__ = Preset.__qualname__ = name
    return Preset


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")

_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_uniform": RandomUniform, "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "orthogonal": Orthogonal,
    "uniform": RandomUniform, "normal": RandomNormal,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
}
_BY_CLASS = {cls.__name__: cls for cls in _BY_NAME.values()}


def serialize(initializer):
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config):
    cls = _BY_CLASS.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"unknown initializer config. Received: config={config!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An Initializer from a name ('glorot_uniform', 'GlorotUniform'), a config dict, an instance or a
    callable `(shape, dtype=None) -> array`. Unknown names raise ValueError listing the known ones."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_CLASS.get(identifier)
        if cls is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: {sorted(_BY_NAME)}. "
                             f"Received: identifier={identifier!r}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret initializer. Received: identifier={identifier!r}")
