"""Keras-compatible optimizers (keras.optimizers) on neurokern's fused update kernels.

    opt = optimizers.Adam(learning_rate=1e-3)
    opt.apply_gradients(zip(grads, variables))   # each variable (a Tensor) is updated in place

Formulas and defaults are Keras 3's (keras/src/optimizers/*.py); they are written out in
csrc/cpu/optim.cpp's header and re-implemented in NumPy in tests/test_keras_conformance.py.
Each call to apply_gradients runs one kernel per variable and then increments `iterations`
(Adam's bias correction uses step = iterations + 1). Optimizer state ("slots") is created lazily,
the first time a variable is seen, keyed by the variable object; the optimizer keeps a reference
to the variable so the key stays valid.

`learning_rate` is a float >= 0 or a schedule: a callable taking the step (iterations) and
returning the rate, like keras.optimizers.schedules.LearningRateSchedule. Not implemented yet
(a non-default value raises ValueError): weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema,
loss_scale_factor, gradient_accumulation_steps.
"""
import math

import numpy as np

from neurokern import ops
from neurokern._core import Tensor
from neurokern.tensor import tensor as _tensor, zeros as _zeros

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "get", "serialize", "deserialize"]

# Keras base-optimizer arguments neurokern does not implement, with their harmless defaults.
_UNSUPPORTED = {"weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None,
                "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None}


def _is_number(x):
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_learning_rate(lr):
    if callable(lr):
        return lr
    if not _is_number(lr) or not math.isfinite(lr) or lr < 0:
        raise ValueError("Argument `learning_rate` must be a finite float >= 0 or a schedule "
                         f"(a callable taking the step). Received: learning_rate={lr!r}")
    return float(lr)


def _check_range(name, x, lo, hi, hi_open=False):
    ok = _is_number(x) and math.isfinite(x) and lo <= x and (x < hi if hi_open else x <= hi)
    if not ok:
        raise ValueError(f"Argument `{name}` must be a float in [{lo}, {hi}{')' if hi_open else ']'}. "
                         f"Received: {name}={x!r}")
    return float(x)


def _check_nonneg(name, x):
    if not _is_number(x) or not math.isfinite(x) or x < 0:
        raise ValueError(f"Argument `{name}` must be a finite float >= 0. Received: {name}={x!r}")
    return float(x)


class Optimizer:
    """Base class: learning rate, step counter, lazily created per-variable state, apply_gradients."""

    def __init__(self, learning_rate, name, **kwargs):
        for key, value in kwargs.items():
            if key not in _UNSUPPORTED:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {key!r}")
            if value != _UNSUPPORTED[key]:
                raise ValueError(f"neurokern optimizers do not implement `{key}` yet. "
                                 f"Received: {key}={value!r}")
        self.name = name
        self.learning_rate = learning_rate
        self.iterations = 0
        self._slots = {}  # id(variable) -> (variable, {slot name: Tensor})

    @property
    def learning_rate(self):
        """The rate used by the next step (a schedule is evaluated at `iterations`)."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _check_learning_rate(value)

    def _current_learning_rate(self):
        lr = self._learning_rate
        if callable(lr):
            value = lr(self.iterations)
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"the learning-rate schedule returned {value!r} at step {self.iterations}; "
                                 f"it must be a finite float >= 0. Received: learning_rate={value!r}")
            return float(value)
        return lr

    # -- state ----------------------------------------------------------------------------------
    def _slot_specs(self):
        """{slot name: initial value} for one variable (subclasses)."""
        return {}

    def _state(self, var):
        entry = self._slots.get(id(var))
        if entry is None or entry[0] is not var:
            slots = {}
            for name, init in self._slot_specs().items():
                if init == 0.0:
                    slots[name] = _zeros(tuple(var.shape), device=var.device)
                else:
                    slots[name] = _tensor(np.full(tuple(var.shape), init, dtype=np.float32), device=var.device)
            entry = (var, slots)
            self._slots[id(var)] = entry
        return entry[1]

    def build(self, var_list):
        """Create the state of every variable now (Keras 3's build); apply_gradients also does it lazily."""
        for var in var_list:
            if not isinstance(var, Tensor):
                raise TypeError(f"build expects neurokern Tensors, got {type(var).__name__}")
            self._state(var)

    def _move_state(self, moved):
        """After weights moved device: `moved` maps id(old value Tensor) -> new value Tensor. Each variable's
        state follows it (same values), so training continues where it was."""
        from neurokern import device as _device

        for key in list(self._slots):
            var, slots = self._slots[key]
            new = moved.get(id(var))
            if new is None or new is var:
                continue
            del self._slots[key]
            self._slots[id(new)] = (new, {k: _device.to_device(t, new.device) for k, t in slots.items()})

    @property
    def variables(self):
        """Every state tensor created so far."""
        return [t for _, slots in self._slots.values() for t in slots.values()]

    # -- updates --------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Update each variable in place from its gradient; None gradients are skipped. Returns iterations."""
        pairs = list(grads_and_vars)
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise ValueError("apply_gradients expects (gradient, variable) pairs. "
                                 f"Received: item {i} = {pair!r}")
            g, var = pair
            if g is not None and not isinstance(var, Tensor):
                raise TypeError("apply_gradients updates neurokern Tensors in place; variable "
                                f"{i} is a {type(var).__name__}")
        lr = self._current_learning_rate()
        step = self.iterations + 1
        for g, var in pairs:
            if g is None:
                continue
            self._update(var, g, self._state(var), lr, step)
        self.iterations += 1
        return self.iterations

    def apply(self, grads, trainable_variables):
        """Keras 3's apply(grads, trainable_variables)."""
        return self.apply_gradients(zip(grads, trainable_variables))

    def _update(self, var, grad, slots, lr, step):
        raise NotImplementedError

    # -- config ---------------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "learning_rate": self._learning_rate}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    v = momentum * v - lr * g;  w += v   (nesterov: w += momentum * v - lr * g); momentum 0: w -= lr * g
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.momentum = _check_range("momentum", momentum, 0, 1)
        if not isinstance(nesterov, bool):
            raise ValueError(f"Argument `nesterov` must be True or False. Received: nesterov={nesterov!r}")
        self.nesterov = nesterov

    def _slot_specs(self):
        return {"momentum": 0.0} if self.momentum != 0 else {}

    def _update(self, var, grad, slots, lr, step):
        ops.sgd_update(var, slots.get("momentum"), grad, lr, self.momentum, self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """accumulator += g^2;  w -= lr * g / sqrt(accumulator + epsilon) (accumulator starts at
    initial_accumulator_value)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="adagrad",
                 **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.initial_accumulator_value = _check_nonneg("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _check_nonneg("epsilon", epsilon)

    def _slot_specs(self):
        return {"accumulator": self.initial_accumulator_value}

    def _update(self, var, grad, slots, lr, step):
        ops.adagrad_update(var, slots["accumulator"], grad, lr, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012) in Keras 3's form, scaled by learning_rate."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="adadelta", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.rho = _check_range("rho", rho, 0, 1)
        self.epsilon = _check_nonneg("epsilon", epsilon)

    def _slot_specs(self):
        return {"accumulated_grad": 0.0, "accumulated_delta_var": 0.0}

    def _update(self, var, grad, slots, lr, step):
        ops.adadelta_update(var, slots["accumulated_grad"], slots["accumulated_delta_var"], grad, lr,
                            self.rho, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop with optional momentum and centering (Keras 3)."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 name="rmsprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.rho = _check_range("rho", rho, 0, 1)
        self.momentum = _check_nonneg("momentum", momentum)
        self.epsilon = _check_nonneg("epsilon", epsilon)
        if not isinstance(centered, bool):
            raise ValueError(f"Argument `centered` must be True or False. Received: centered={centered!r}")
        self.centered = centered

    def _slot_specs(self):
        specs = {"velocity": 0.0}
        if self.momentum > 0:
            specs["momentum"] = 0.0
        if self.centered:
            specs["average_gradient"] = 0.0
        return specs

    def _update(self, var, grad, slots, lr, step):
        ops.rmsprop_update(var, slots["velocity"], slots.get("momentum"), slots.get("average_gradient"),
                           grad, lr, self.rho, self.momentum, self.epsilon, self.centered)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """Adam (Kingma & Ba) in Keras 3's form: alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t),
    m += (g - m)(1 - beta_1), v += (g^2 - v)(1 - beta_2), w -= alpha * m / (sqrt(v) + epsilon)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 name="adam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1 = _check_range("beta_1", beta_1, 0, 1, hi_open=True)
        self.beta_2 = _check_range("beta_2", beta_2, 0, 1, hi_open=True)
        self.epsilon = _check_nonneg("epsilon", epsilon)
        if not isinstance(amsgrad, bool):
            raise ValueError(f"Argument `amsgrad` must be True or False. Received: amsgrad={amsgrad!r}")
        self.amsgrad = amsgrad

    def _slot_specs(self):
        specs = {"momentum": 0.0, "velocity": 0.0}
        if self.amsgrad:
            specs["velocity_hat"] = 0.0
        return specs

    def _update(self, var, grad, slots, lr, step):
        ops.adam_update(var, slots["momentum"], slots["velocity"], slots.get("velocity_hat"), grad, lr,
                        self.beta_1, self.beta_2, self.epsilon, step, self.amsgrad)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


# ---- lookup ---------------------------------------------------------------------------------------

_CLASSES = {"sgd": SGD, "adagrad": Adagrad, "adadelta": Adadelta, "rmsprop": RMSprop, "adam": Adam}


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    cls = _CLASSES.get(str(config.get("class_name", "")).lower()) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"unknown optimizer config: expected {{'class_name': one of "
                         f"{sorted(c.__name__ for c in _CLASSES.values())}, 'config': {{...}}}}. "
                         f"Received: config={config!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An Optimizer from a name ('sgd', 'adam', 'rmsprop', 'adagrad', 'adadelta'; any case), an
    Optimizer instance (returned as is), an Optimizer class or a serialized config."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer) and identifier is not Optimizer:
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() in _CLASSES:
        return _CLASSES[identifier.lower()]()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. "
                     f"Known names: {', '.join(_CLASSES)} (case-insensitive), or an Optimizer instance")
