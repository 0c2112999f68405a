"""Image preprocessing and augmentation layers (Keras semantics, NHWC float32 images):

    Rescaling(scale, offset=0.0)        y = x * scale + offset, in training and inference
    RandomFlip(mode, seed)              each image flipped left-right and/or up-down with probability 1/2
    RandomTranslation(height_factor, width_factor, fill_mode, interpolation, seed, fill_value)
    RandomRotation(factor, fill_mode, interpolation, seed, fill_value)
    RandomZoom(height_factor, width_factor=None, fill_mode, interpolation, seed, fill_value)

The random layers act only when called with training=True (fit); in inference (predict, evaluate)
they are the identity, as in Keras. Each training call draws one set of parameters per image
(NumPy, from the layer's own generator when `seed` is given, else neurokern's generator, so
utils.set_random_seed makes runs repeatable), builds one 2x3 matrix per image (the Keras formulas,
mapping output pixels to input coordinates) and resamples the whole batch with one
ops.affine_transform2d call; backward is that op's adjoint with the same matrices.

Factors follow Keras: a number f means the range [-f, f], a pair (lower, upper) the range itself.
RandomTranslation: fractions of the image height/width. RandomRotation: fractions of a full turn
(0.1 -> up to +-36 degrees), positive = counter-clockwise. RandomZoom: 1 + factor scales the sampled
region, so a positive factor zooms OUT and a negative one zooms IN; width_factor=None keeps the
aspect ratio (the width uses the height's draw).
"""
import math
import numbers

import numpy as np

import neurokern as nk
from neurokern import ops, utils
from neurokern.layers.base import InputSpec, Layer

__all__ = ["Rescaling", "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom"]

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def _number(value):
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(float(value))


def _factor_range(name, factor, bound=None, lower_min=None):
    """(lower, upper) from a number f (-> (-f, f)) or a pair, with Keras' checks."""
    if _number(factor):
        lower, upper = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, (tuple, list)) and len(factor) == 2 and all(_number(f) for f in factor):
        lower, upper = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"`{name}` must be a number or a tuple of two numbers (lower, upper). "
                         f"Received: {name}={factor!r}")
    if lower > upper:
        raise ValueError(f"`{name}` lower bound must not exceed the upper bound. Received: {name}={factor!r}")
    if bound is not None and (lower < -bound or upper > bound):
        raise ValueError(f"`{name}` must be in the range [-{bound}, {bound}]. Received: {name}={factor!r}")
    if lower_min is not None and lower < lower_min:
        raise ValueError(f"`{name}` must have values larger than {lower_min}. Received: {name}={factor!r}")
    return lower, upper


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative integer. Received: seed={seed!r}")
    return None if seed is None else int(seed)


class Rescaling(Layer):
    """y = x * scale + offset (e.g. Rescaling(1/255) for [0, 255] images, Rescaling(1/127.5, offset=-1))."""

    def __init__(self, scale, offset=0.0, **kwargs):
        for name, v in (("scale", scale), ("offset", offset)):
            if not _number(v):
                raise ValueError(f"Rescaling `{name}` must be a finite number (per-channel arrays are not supported "
                                 f"yet). Received: {name}={v!r}")
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def forward(self, x, training=False):
        y = nk.empty(tuple(x.shape))
        ops.fill(y, self.offset)
        ops.axpy(y, x, self.scale)  # y = offset + scale * x
        return y, None

    def backward(self, ctx, dy, need_dx=True):
        return ops.scale(dy, self.scale) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


class _RandomAffine(Layer):
    """Shared machinery: subclasses return one (6,) matrix per image from `_matrices(n, h, w, rng)`."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode!r}. Only {', '.join(_FILL_MODES)} are "
                                      f"supported. Received: fill_mode={fill_mode!r}")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation!r}. Only {', '.join(_INTERPOLATIONS)} "
                                      f"are supported. Received: interpolation={interpolation!r}")
        if not _number(fill_value):
            raise ValueError(f"fill_value must be a finite number. Received: fill_value={fill_value!r}")
        seed = _check_seed(seed)
        super().__init__(**kwargs)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.input_spec = InputSpec(min_ndim=3)

    def _generator(self):
        return self._rng if self._rng is not None else utils.get_rng()

    def forward(self, x, training=False):
        if not training:
            return x, None
        shape = tuple(x.shape)
        if len(shape) not in (3, 4):
            raise ValueError(f"layer '{self.name}' expects images (batch, height, width, channels) or "
                             f"(height, width, channels). Received: input with shape {shape}")
        x4 = x if len(shape) == 4 else x.reshape([1] + list(shape))
        n, h, w = (int(d) for d in x4.shape[:3])
        t = np.ascontiguousarray(self._matrices(n, h, w, self._generator()), dtype=np.float32)
        y = ops.affine_transform2d(x4, t, self.interpolation, self.fill_mode, self.fill_value)
        return (y if len(shape) == 4 else y.reshape(list(shape))), (t, shape)

    def backward(self, ctx, dy, need_dx=True):
        if not need_dx:
            return None
        if ctx is None:  # inference-mode forward: identity
            return dy
        t, shape = ctx
        shape4 = shape if len(shape) == 4 else (1,) + shape
        dy4 = dy if len(shape) == 4 else dy.reshape(list(shape4))
        dx = ops.affine_transform2d_backward(dy4, t, shape4, self.interpolation, self.fill_mode)
        return dx if len(shape) == 4 else dx.reshape(list(shape))

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation, "seed": self.seed,
                       "fill_value": self.fill_value})
        return config


class RandomFlip(_RandomAffine):
    """Flip each image horizontally and/or vertically, each with probability 1/2 (independently)."""

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip layer {kwargs.get('name')} received an unknown mode argument {mode!r}; "
                             f"expected one of {self._MODES}. Received: mode={mode!r}")
        super().__init__(fill_mode="reflect", interpolation="nearest", seed=seed, **kwargs)
        self.mode = mode

    def _matrices(self, n, h, w, rng):
        t = np.tile(np.array([1, 0, 0, 0, 1, 0], np.float64), (n, 1))
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = rng.uniform(size=n) < 0.5
            t[flip, 0], t[flip, 2] = -1.0, w - 1.0    # column j reads column w-1-j
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = rng.uniform(size=n) < 0.5
            t[flip, 4], t[flip, 5] = -1.0, h - 1.0
        return t

    def get_config(self):
        config = Layer.get_config(self)
        config.update({"mode": self.mode, "seed": self.seed})
        return config


class RandomTranslation(_RandomAffine):
    """Shift each image by a random fraction of its size: dy ~ U(height_factor) * H, dx ~ U(width_factor) * W."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        self.height_lower, self.height_upper = _factor_range("height_factor", height_factor, bound=1.0)
        self.width_lower, self.width_upper = _factor_range("width_factor", width_factor, bound=1.0)
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor

    def _matrices(self, n, h, w, rng):
        ty = rng.uniform(self.height_lower, self.height_upper, size=n) * h
        tx = rng.uniform(self.width_lower, self.width_upper, size=n) * w
        one, zero = np.ones(n), np.zeros(n)
        return np.stack([one, zero, -tx, zero, one, -ty], axis=1)  # output (i, j) reads input (i - ty, j - tx)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config


class RandomRotation(_RandomAffine):
    """Rotate each image about its centre by U(factor) * 2 pi radians (positive: counter-clockwise)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        self.lower, self.upper = _factor_range("factor", factor)
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor

    def _matrices(self, n, h, w, rng):
        angle = rng.uniform(self.lower, self.upper, size=n) * 2.0 * np.pi
        c, s = np.cos(angle), np.sin(angle)
        # Keras' rotation matrix: turn about the centre ((w-1)/2, (h-1)/2)
        x_off = ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2.0
        y_off = ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2.0
        return np.stack([c, -s, x_off, s, c, y_off], axis=1)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_RandomAffine):
    """Zoom each image about its centre: the sampled region is (1 + U(factor)) times the image per axis."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        self.height_lower, self.height_upper = _factor_range("height_factor", height_factor, lower_min=-1.0)
        self.width_lower = self.width_upper = None
        if width_factor is not None:
            self.width_lower, self.width_upper = _factor_range("width_factor", width_factor, lower_min=-1.0)
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor

    def _matrices(self, n, h, w, rng):
        zy = 1.0 + rng.uniform(self.height_lower, self.height_upper, size=n)
        zx = zy if self.width_factor is None else 1.0 + rng.uniform(self.width_lower, self.width_upper, size=n)
        zero = np.zeros(n)
        x_off = (w - 1.0) / 2.0 * (1.0 - zx)
        y_off = (h - 1.0) / 2.0 * (1.0 - zy)
        return np.stack([zx, zero, x_off, zero, zy, y_off], axis=1)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config


# neurokern.layers imports this module last, once its register() exists
from neurokern import layers as _layers  # noqa: E402

for _cls in (Rescaling, RandomFlip, RandomTranslation, RandomRotation, RandomZoom):
    _layers.register(_cls)
