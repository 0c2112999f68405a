"""Weight penalties added to the training loss (Keras formulas):

    L1(l1)        penalty = l1 * sum(|w|)        grad += l1 * sign(w)
    L2(l2)        penalty = l2 * sum(w^2)        grad += 2 * l2 * w
    L1L2(l1, l2)  both

`penalty(w)` returns a float and `accumulate_grad(grad, w)` adds the gradient into `grad`; both run
through neurokern.ops on Tensors.
"""
import math

from neurokern import ops

__all__ = ["Regularizer", "L1", "L2", "L1L2", "get", "serialize"]


def _check(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}")
    return value


class Regularizer:
    def penalty(self, w):
        raise NotImplementedError

    def accumulate_grad(self, grad, w):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _check("l1", l1), _check("l2", l2)

    def penalty(self, w):
        total = 0.0
        if self.l1:
            sign = ops.sign(w)
            total += self.l1 * ops.sum(ops.mul(w, sign))
        if self.l2:
            total += self.l2 * ops.sum(ops.square(w))
        return float(total)

    def accumulate_grad(self, grad, w):
        if self.l1:
            ops.axpy(grad, ops.sign(w), self.l1)
        if self.l2:
            ops.axpy(grad, w, 2.0 * self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def serialize(reg):
    return {"class_name": type(reg).__name__, "config": reg.get_config()}


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"unknown regularizer {identifier!r}; known: 'l1', 'l2', 'l1_l2'. "
                             f"Received: regularizer={identifier!r}")
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        return _BY_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    raise ValueError(f"could not interpret regularizer. Received: regularizer={identifier!r}")
