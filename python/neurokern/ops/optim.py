"""Fused in-place optimizer updates (csrc/cpu/optim.cpp; Keras 3 formulas in its header).

Each op updates one variable `w` and its state tensors in place from the gradient `g` (all float32
Tensors of one shape) and returns `w`. The bindings reject NaN/negative learning rates and
hyper-parameters out of range with a ValueError naming the parameter.
"""
from neurokern.ops._util import as_input, backend


__all__ = [
    "sgd_update",
    "adagrad_update",
    "adadelta_update",
    "rmsprop_update",
    "adam_update",
    "optim_variants",
]

def _grad(g):
    return as_input(g)[0]  # a NumPy gradient is wrapped (no copy when float32 and contiguous)


def sgd_update(w, v, g, learning_rate=0.01, momentum=0.0, nesterov=False):
    """v = momentum*v - lr*g; w += v (nesterov: w += momentum*v - lr*g). v may be None if momentum == 0."""
    backend(w).sgd_update(w, v, _grad(g), float(learning_rate), float(momentum), bool(nesterov))
    return w


def adagrad_update(w, accumulator, g, learning_rate=0.001, epsilon=1e-7):
    """accumulator += g^2; w -= lr*g / sqrt(accumulator + epsilon)."""
    backend(w).adagrad_update(w, accumulator, _grad(g), float(learning_rate), float(epsilon))
    return w


def adadelta_update(w, accumulated_grad, accumulated_delta_var, g, learning_rate=0.001, rho=0.95,
                    epsilon=1e-7):
    """Keras Adadelta step (see csrc/cpu/optim.cpp)."""
    backend(w).adadelta_update(w, accumulated_grad, accumulated_delta_var, _grad(g),
                               float(learning_rate), float(rho), float(epsilon))
    return w


def rmsprop_update(w, velocity, momentum_buffer, average_grad, g, learning_rate=0.001, rho=0.9,
                   momentum=0.0, epsilon=1e-7, centered=False):
    """Keras RMSprop step; momentum_buffer used if momentum > 0, average_grad if centered (else None)."""
    backend(w).rmsprop_update(w, velocity, momentum_buffer, average_grad, _grad(g), float(learning_rate),
                              float(rho), float(momentum), float(epsilon), bool(centered))
    return w


def adam_update(w, m, v, v_hat, g, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                step=1, amsgrad=False):
    """Keras Adam step number `step` (1-based); v_hat is used (and may otherwise be None) with amsgrad."""
    backend(w).adam_update(w, m, v, v_hat, _grad(g), float(learning_rate), float(beta_1), float(beta_2),
                           float(epsilon), int(step), bool(amsgrad))
    return w


def optim_variants():
    """Registered optimizer-update implementations as (name, isa, description), simplest first."""
    from neurokern import _core
    return _core.optim_variants()
