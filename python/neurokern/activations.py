"""Keras-compatible activations (keras.activations), computed by neurokern's C++ kernels.

Functions take a NumPy array or Tensor and return the same kind:

    from neurokern import activations
    y = activations.relu(x)
    p = activations.softmax(logits)          # over the last axis

`get(identifier)` turns None, a name, an `Activation` or a callable into an `Activation` object,
which layers use for both directions (Tensors in, Tensors out):

    act = activations.get("elu")
    y = act.forward(x)
    dx = act.backward(dy, x, y)              # dx = dy * f'; uses x or y as the activation needs
"""
import numbers

import numpy as np

from neurokern import _core
from neurokern import ops

__all__ = [
    "Activation", "get", "serialize", "deserialize",
    "linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "relu6", "softplus",
    "softsign", "selu", "silu", "swish", "exponential", "hard_sigmoid", "softmax", "log_softmax",
]

_ALIASES = {"swish": "silu"}


def _info():
    return {d["name"]: d for d in _core.activation_info()}


def _check_alpha(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value \
            or value in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be a finite number. Received: {what}={value!r}")
    return float(value)


def _last_axis(x, axis, fn):
    ndim = getattr(x, "ndim", None)
    if ndim is None:
        ndim = np.ndim(x)
    if not isinstance(axis, numbers.Integral) or axis not in (-1, ndim - 1):
        raise ValueError(f"{fn} is only implemented over the last axis (axis=-1); transpose the "
                         f"input so that axis comes last. Received: axis={axis!r}")


# ---- the Keras functions ------------------------------------------------------------------------
def linear(x):
    """Identity: x."""
    return ops.copy(x)


def step(x):
    """Heaviside step: 1 where x > 0, else 0 (its gradient is 0)."""
    return ops.step(x)


def sign(x):
    """-1, 0 or 1 (its gradient is 0)."""
    return ops.sign(x)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow for any x."""
    return ops.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); with negative_slope, a leaky ReLU; with max_value=6, relu6 (Keras signature).

    Supported combinations: (slope, None, 0), (0, 6, 0). Others raise ValueError.
    """
    slope = _check_alpha(negative_slope, "negative_slope")
    if threshold != 0.0:
        raise ValueError(f"relu with a non-zero threshold is not implemented. Received: threshold={threshold!r}")
    if max_value is None:
        return ops.relu(x) if slope == 0.0 else ops.leaky_relu(x, slope)
    if max_value == 6 and slope == 0.0:
        return ops.relu6(x)
    raise ValueError("relu supports max_value=None or max_value=6 with negative_slope=0. "
                     f"Received: negative_slope={negative_slope!r}, max_value={max_value!r}")


def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, else negative_slope * x (Keras 3 default slope 0.2; the LeakyReLU layer uses 0.3)."""
    return ops.leaky_relu(x, _check_alpha(negative_slope, "negative_slope"))


def elu(x, alpha=1.0):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return ops.elu(x, _check_alpha(alpha, "alpha"))


def relu6(x):
    """min(max(x, 0), 6)."""
    return ops.relu6(x)


def softplus(x):
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) (no overflow)."""
    return ops.softplus(x)


def softsign(x):
    """x / (1 + |x|)."""
    return ops.softsign(x)


def selu(x):
    """1.0507 * elu(x, alpha=1.6733) (Klambauer et al. constants)."""
    return ops.selu(x)


def silu(x):
    """x * sigmoid(x) (a.k.a. swish)."""
    return ops.silu(x)


swish = silu


def exponential(x):
    """exp(x)."""
    return ops.exponential(x)


def hard_sigmoid(x):
    """clip(x / 6 + 0.5, 0, 1) (Keras 3 definition, = relu6(x + 3) / 6)."""
    return ops.hard_sigmoid(x)


def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) over the last axis (only axis=-1 is implemented)."""
    _last_axis(x, axis, "softmax")
    return ops.softmax(x)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) over the last axis (only axis=-1 is implemented)."""
    _last_axis(x, axis, "log_softmax")
    return ops.log_softmax(x)


# ---- Activation objects -------------------------------------------------------------------------
class Activation:
    """One activation, both directions, as layers use it.

    `Activation("leaky_relu", alpha=0.1)`; `.forward(x) -> y`, `.backward(dy, x, y) -> dx`
    (Tensors or NumPy in, the same kind out). `alpha` is None for activations without one.
    """

    def __init__(self, name, alpha=None):
        if not isinstance(name, str):
            raise TypeError(f"Activation name must be a string. Received: name={name!r}")
        key = _ALIASES.get(name.lower(), name.lower())
        info = _info()
        if key not in info:
            raise ValueError(_unknown_message(name))
        self._info = info[key]
        self.name = key
        if alpha is not None and not self._info["has_alpha"]:
            raise ValueError(f"activation '{key}' takes no alpha. Received: alpha={alpha!r}")
        if self._info["has_alpha"]:
            alpha = self._default_alpha() if alpha is None else _check_alpha(alpha, "alpha")
        self.alpha = alpha
        self.backward_uses = self._info["backward_uses"]  # 'x' or 'y': what backward reads

    def _default_alpha(self):
        # the C++ default is a float32 (0.3f); give back the short decimal it was written as
        return float(f"{self._info['default_alpha']:.7g}")

    def forward(self, x):
        return ops.activation(x, self.name, self.alpha)

    __call__ = forward

    def backward(self, dy, x, y):
        """dx = dy * f'. Pass the forward input x and output y (the unused one may be None)."""
        return ops.activation_backward(dy, x if self.backward_uses == "x" else None,
                                       y if self.backward_uses == "y" else None, self.name, self.alpha)

    def serialize(self):
        """The name, or {'name': ..., 'alpha': ...} when alpha differs from the default."""
        if self.alpha is None or np.float32(self.alpha) == np.float32(self._info["default_alpha"]):
            return self.name
        return {"name": self.name, "alpha": self.alpha}

    get_config = serialize

    def __eq__(self, other):
        return isinstance(other, Activation) and type(other) is type(self) \
            and (self.name, self.alpha) == (other.name, other.alpha)

    def __hash__(self):
        return hash((self.name, self.alpha))

    def __repr__(self):
        return f"Activation({self.name!r}" + (f", alpha={self.alpha!r})" if self.alpha is not None else ")")


class CallableActivation(Activation):
    """A user function as an activation. Its forward is fn(x); backward needs `fn.backward(dy, x, y)`."""

    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.alpha = None
        self.backward_uses = "x"
        self._info = {"default_alpha": 0.0}

    def forward(self, x):
        return self.fn(x)

    __call__ = forward

    def backward(self, dy, x, y):
        grad = getattr(self.fn, "backward", None)
        if grad is None:
            raise NotImplementedError(
                f"custom activation {self.name!r} has no gradient: neurokern has no autodiff, so give the "
                "function a `backward(dy, x, y)` attribute returning dx, or use a built-in name "
                f"({', '.join(_names())})")
        return grad(dy, x, y)

    def serialize(self):
        return self.name

    get_config = serialize

    def __eq__(self, other):
        return isinstance(other, CallableActivation) and other.fn is self.fn

    def __hash__(self):
        return hash(id(self.fn))

    def __repr__(self):
        return f"CallableActivation({self.name!r})"


def _names():
    return list(_core.activation_names())


def _unknown_message(identifier):
    return f"Unknown activation function: {identifier!r}. Available: {', '.join(_names())} (and 'swish')"


# module functions -> names, so get(activations.relu) gives the kernel-backed object
_FUNCTIONS = {
    linear: "linear", step: "step", sign: "sign", sigmoid: "sigmoid", tanh: "tanh", relu: "relu",
    leaky_relu: "leaky_relu", elu: "elu", relu6: "relu6", softplus: "softplus", softsign: "softsign",
    selu: "selu", silu: "silu", exponential: "exponential", hard_sigmoid: "hard_sigmoid",
    softmax: "softmax", log_softmax: "log_softmax",
}


def get(identifier):
    """An Activation for None ('linear'), a name, a serialized dict, an Activation or a callable."""
    if identifier is None:
        return Activation("linear")
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str):
        key = _ALIASES.get(identifier.lower(), identifier.lower())
        if key not in _names():
            raise ValueError(_unknown_message(identifier))
        # Keras 3 defaults for the functional form: leaky_relu's negative_slope is 0.2
        return Activation(key, 0.2 if key == "leaky_relu" else None)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        if identifier in _FUNCTIONS:
            return get(_FUNCTIONS[identifier])
        return CallableActivation(identifier)
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(activation):
    """Name (or {'name', 'alpha'} dict) of an activation, function or Activation object."""
    return get(activation).serialize()


def deserialize(config):
    """Inverse of serialize: a name or a {'name': ..., 'alpha': ...} dict -> Activation."""
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict):
        name = config.get("name", config.get("class_name"))
        if not isinstance(name, str):
            raise ValueError(f"activation config needs a 'name'. Received: config={config!r}")
        inner = config.get("config", {})
        alpha = config.get("alpha", inner.get("alpha") if isinstance(inner, dict) else None)
        if alpha is None and _ALIASES.get(name.lower(), name.lower()) == "leaky_relu":
            alpha = 0.2
        return Activation(name, alpha)
    raise ValueError(f"Could not interpret activation config: {config!r}")
