"""neurokern.optimizers (and losses) against Keras 3.

The NumPy functions below re-implement Keras 3's update_step (keras/src/optimizers/*.py) in float64
with Keras's defaults; tests/test_optim.py uses them too. The optimizers' first three updates, run
through the Keras API (apply_gradients), must match them. A few values printed in Keras's own
docstrings pin the formulas (and the losses) to Keras rather than to our reading of it.
"""
import math

import numpy as np
import pytest

import neurokern as nk
from neurokern import losses, optimizers

from conftest import assert_close

# ---- Keras 3 update rules in NumPy (float64). state: dict of slot arrays, created by init_state -----

KERAS_DEFAULTS = {
    "sgd": dict(learning_rate=0.01, momentum=0.0, nesterov=False),
    "adagrad": dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7),
    "adadelta": dict(learning_rate=0.001, rho=0.95, epsilon=1e-7),
    "rmsprop": dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False),
    "adam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
}


def init_state(name, shape, hp):
    zeros = lambda: np.zeros(shape)  # noqa: E731
    if name == "sgd":
        return {"v": zeros()}
    if name == "adagrad":
        return {"acc": np.full(shape, hp["initial_accumulator_value"], dtype=np.float64)}
    if name == "adadelta":
        return {"acc_grad": zeros(), "acc_delta": zeros()}
    if name == "rmsprop":
        return {"velocity": zeros(), "mom": zeros(), "avg": zeros()}
    if name == "adam":
        return {"m": zeros(), "v": zeros(), "v_hat": zeros()}
    raise ValueError(name)


def keras_update(name, w, g, s, hp, step):
    """One Keras 3 update_step; returns the new w and mutates the state arrays in s."""
    lr = hp["learning_rate"]
    if name == "sgd":
        mu = hp["momentum"]
        if mu == 0:
            return w - lr * g
        s["v"] = mu * s["v"] - lr * g
        return w + (mu * s["v"] - lr * g if hp["nesterov"] else s["v"])
    if name == "adagrad":
        s["acc"] = s["acc"] + g * g
        return w - lr * g / np.sqrt(s["acc"] + hp["epsilon"])
    if name == "adadelta":
        rho, eps = hp["rho"], hp["epsilon"]
        s["acc_grad"] = rho * s["acc_grad"] + (1 - rho) * g * g
        delta = -np.sqrt(s["acc_delta"] + eps) * g / np.sqrt(s["acc_grad"] + eps)
        s["acc_delta"] = rho * s["acc_delta"] + (1 - rho) * delta * delta
        return w + lr * delta
    if name == "rmsprop":
        rho, eps = hp["rho"], hp["epsilon"]
        s["velocity"] = rho * s["velocity"] + (1 - rho) * g * g
        if hp["centered"]:
            s["avg"] = rho * s["avg"] + (1 - rho) * g
            den = s["velocity"] - s["avg"] ** 2 + eps
        else:
            den = s["velocity"] + eps
        inc = lr * g / np.sqrt(den)
        if hp["momentum"] > 0:
            s["mom"] = hp["momentum"] * s["mom"] + inc
            return w - s["mom"]
        return w - inc
    if name == "adam":
        b1, b2, eps = hp["beta_1"], hp["beta_2"], hp["epsilon"]
        # Keras casts beta to the variable dtype (float32) before the power
        b1p, b2p = float(np.float32(b1)) ** step, float(np.float32(b2)) ** step
        alpha = lr * math.sqrt(1 - b2p) / (1 - b1p)
        s["m"] = s["m"] + (g - s["m"]) * (1 - b1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - b2)
        v = s["v"]
        if hp["amsgrad"]:
            s["v_hat"] = np.maximum(s["v_hat"], s["v"])
            v = s["v_hat"]
        return w - alpha * s["m"] / (np.sqrt(v) + eps)
    raise ValueError(name)


CLASSES = {"sgd": optimizers.SGD, "adagrad": optimizers.Adagrad, "adadelta": optimizers.Adadelta,
           "rmsprop": optimizers.RMSprop, "adam": optimizers.Adam}
CONFIGS = [
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("adagrad", {}), ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0}),
    ("adadelta", {}), ("adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.5}), ("rmsprop", {"centered": True}),
    ("rmsprop", {"centered": True, "momentum": 0.9, "learning_rate": 0.01}),
    ("adam", {}), ("adam", {"amsgrad": True}), ("adam", {"learning_rate": 0.01, "beta_1": 0.5}),
]


@pytest.mark.parametrize("name,overrides", CONFIGS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'defaults'}"
                              for n, o in CONFIGS])
def test_first_three_updates_match_keras(name, overrides, isa):
    rng = np.random.default_rng(7)
    hp = {**KERAS_DEFAULTS[name], **overrides}
    opt = CLASSES[name](**overrides)
    for key, value in hp.items():  # the class defaults are Keras's
        assert getattr(opt, key) == value, key
    shapes = [(3, 4), (5,), (1,)]
    w0 = [rng.normal(size=s).astype(np.float32) for s in shapes]
    variables = [nk.tensor(w.copy()) for w in w0]
    ref_w = [w.astype(np.float64) for w in w0]
    ref_s = [init_state(name, s, hp) for s in shapes]
    for step in range(1, 4):
        # magnitudes from 1 down to 1e-5, so where epsilon enters each formula matters
        grads = [(rng.normal(size=s) * 10.0 ** -rng.integers(0, 6, size=s)).astype(np.float32)
                 for s in shapes]
        assert opt.iterations == step - 1
        opt.apply_gradients(zip([nk.tensor(g) for g in grads], variables))
        for i in range(len(shapes)):
            ref_w[i] = keras_update(name, ref_w[i], grads[i].astype(np.float64), ref_s[i], hp, step)
            assert_close(variables[i].numpy(), ref_w[i], "optim")
    assert opt.iterations == 3


# ---- values printed in Keras's docstrings ---------------------------------------------------------

def test_rmsprop_docstring_example():
    # keras.optimizers.RMSprop: var1 = 10.0, loss = var1^2 / 2, RMSprop(0.1) one step -> 9.683772
    var = nk.tensor(np.array([10.0], np.float32))
    optimizers.RMSprop(learning_rate=0.1).apply_gradients([(nk.tensor(var.numpy().copy()), var)])
    assert_close(var.numpy(), np.array([9.683772]), "keras_doc")


def test_sgd_momentum_docstring_example():
    # keras.optimizers.SGD(0.1, momentum=0.9) on loss = var^2 / 2 from 1.0: steps of 0.1 then 0.18
    var = nk.tensor(np.array([1.0], np.float32))
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    values = [1.0]
    for _ in range(2):
        opt.apply_gradients([(nk.tensor(var.numpy().copy()), var)])
        values.append(float(var.numpy()[0]))
    steps = np.float32([values[0] - values[1], values[1] - values[2]])
    assert_close(steps, np.array([0.1, 0.18]), "keras_doc")


@pytest.mark.parametrize("loss,y_true,y_pred,expected", [
    (losses.MeanSquaredError(), [[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]], 0.5),
    (losses.MeanAbsoluteError(), [[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]], 0.5),
    (losses.BinaryCrossentropy(), [[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]], 0.815),
    (losses.BinaryCrossentropy(from_logits=True), [0., 1., 0., 0.], [-18.6, 0.51, 2.94, -12.8], 0.865),
    (losses.CategoricalCrossentropy(), [[0., 1., 0.], [0., 0., 1.]],
     [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]], 1.177),
    (losses.SparseCategoricalCrossentropy(), [1, 2], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]], 1.177),
    (losses.Hinge(), [[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]], 1.3),
    (losses.CosineSimilarity(), [[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]], -0.5),
    (losses.Huber(), [[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]], 0.155),
    (losses.LogCosh(), [[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]], 0.108),
], ids=lambda v: type(v).__name__ if isinstance(v, losses.Loss) else None)
def test_loss_docstring_examples(loss, y_true, y_pred, expected):
    value = loss(np.array(y_true), np.array(y_pred, dtype=np.float32))
    assert_close(np.float32(value), expected, "keras_doc")


# ---- the optimizer API ----------------------------------------------------------------------------

def test_keras_defaults_and_config_round_trip():
    for name, defaults in KERAS_DEFAULTS.items():
        opt = optimizers.get(name.upper())
        assert isinstance(opt, CLASSES[name])
        config = opt.get_config()
        for key, value in defaults.items():
            assert config[key] == value
        again = type(opt).from_config(config)
        assert again.get_config() == config
        assert optimizers.deserialize(optimizers.serialize(opt)).get_config() == config
    assert optimizers.get("SGD").name == "SGD" and optimizers.get("adam").name == "adam"
    adam = optimizers.Adam()
    assert optimizers.get(adam) is adam


def test_get_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match=r"'adamw'.*sgd, adagrad, adadelta, rmsprop, adam"):
        optimizers.get("adamw")


@pytest.mark.parametrize("cls,kwargs,match", [
    (optimizers.Adam, {"learning_rate": float("nan")}, r"Received: learning_rate=nan$"),
    (optimizers.SGD, {"learning_rate": -0.1}, r"Received: learning_rate=-0\.1$"),
    (optimizers.SGD, {"learning_rate": "fast"}, r"Received: learning_rate='fast'$"),
    (optimizers.SGD, {"momentum": -0.5}, r"Received: momentum=-0\.5$"),
    (optimizers.SGD, {"momentum": 1.5}, r"\[0, 1\]\. Received: momentum=1\.5$"),
    (optimizers.Adam, {"beta_1": 1.0}, r"\[0, 1\)\. Received: beta_1=1\.0$"),
    (optimizers.Adam, {"beta_2": -0.1}, r"Received: beta_2=-0\.1$"),
    (optimizers.Adam, {"epsilon": -1e-7}, r"Received: epsilon=-1e-07$"),
    (optimizers.RMSprop, {"rho": 1.5}, r"Received: rho=1\.5$"),
    (optimizers.RMSprop, {"momentum": -1.0}, r"Received: momentum=-1\.0$"),
    (optimizers.Adadelta, {"rho": float("nan")}, r"Received: rho=nan$"),
    (optimizers.Adagrad, {"initial_accumulator_value": -1.0}, r"Received: initial_accumulator_value=-1\.0$"),
    (optimizers.Adam, {"clipnorm": 1.0}, r"do not implement `clipnorm` yet\. Received: clipnorm=1\.0$"),
])
def test_bad_hyper_parameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_unknown_keyword_is_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr'"):
        optimizers.Adam(lr=0.1)


def test_learning_rate_is_settable_and_checked():
    opt = optimizers.SGD()
    opt.learning_rate = 0.5
    var = nk.tensor(np.ones(3, np.float32))
    opt.apply_gradients([(nk.tensor(np.ones(3, np.float32)), var)])
    assert_close(var.numpy(), np.full(3, 0.5), "optim")
    with pytest.raises(ValueError, match="Received: learning_rate=nan"):
        opt.learning_rate = float("nan")
    assert opt.learning_rate == 0.5


def test_learning_rate_schedule_sees_the_step():
    seen = []
    opt = optimizers.SGD(learning_rate=lambda step: seen.append(step) or 0.1 * (step + 1))
    var = nk.tensor(np.zeros(2, np.float32))
    for _ in range(3):
        opt.apply_gradients([(nk.tensor(np.ones(2, np.float32)), var)])
    assert seen == [0, 1, 2]
    assert_close(var.numpy(), np.full(2, -0.6), "optim")
    bad = optimizers.SGD(learning_rate=lambda step: float("nan"))
    with pytest.raises(ValueError, match="Received: learning_rate=nan"):
        bad.apply_gradients([(nk.tensor(np.ones(2, np.float32)), var)])


def test_slots_are_per_variable_and_lazy():
    opt = optimizers.Adam()
    a, b = nk.tensor(np.ones(4, np.float32)), nk.tensor(np.ones((2, 3), np.float32))
    assert opt.variables == []
    opt.apply_gradients([(nk.tensor(np.ones(4, np.float32)), a)])
    assert len(opt.variables) == 2 and opt.variables[0].shape == (4,)
    opt.apply_gradients([(nk.tensor(np.ones(4, np.float32)), a), (nk.tensor(np.ones((2, 3), np.float32)), b)])
    assert len(opt.variables) == 4
    c = nk.tensor(np.ones(3, np.float32))
    opt.build([a, c])  # Keras 3's explicit build: only c is new
    assert len(opt.variables) == 6
    # None gradients are skipped (the variable is left alone), but the step still counts
    before = b.numpy().copy()
    opt.apply_gradients([(None, b)])
    np.testing.assert_array_equal(b.numpy(), before)
    assert opt.iterations == 3


def test_apply_gradients_rejects_bad_pairs():
    opt = optimizers.SGD()
    with pytest.raises(TypeError, match="updates neurokern Tensors in place"):
        opt.apply_gradients([(np.ones(3, np.float32), np.ones(3, np.float32))])
    var = nk.tensor(np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"gradient g has shape \(4,\) but the variable w has shape \(3,\)"):
        opt.apply_gradients([(nk.tensor(np.ones(4, np.float32)), var)])
    with pytest.raises(ValueError, match=r"\(gradient, variable\) pairs"):
        opt.apply_gradients([var])


@pytest.mark.parametrize("cls,kwargs,max_ratio", [
    (optimizers.SGD, {"learning_rate": 0.1}, 1e-6),
    (optimizers.SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, 1e-6),
    (optimizers.Adam, {"learning_rate": 0.05}, 1e-6),
    (optimizers.Adam, {"learning_rate": 0.05, "amsgrad": True}, 1e-6),
    # RMSprop's steps are ~lr in size whatever the gradient: from |t| ~ 1 at lr 0.01 it is not done
    (optimizers.RMSprop, {"learning_rate": 0.01}, 5e-2),
    (optimizers.RMSprop, {"learning_rate": 0.01, "momentum": 0.5, "centered": True}, 1e-3),
    (optimizers.Adagrad, {"learning_rate": 0.5}, 1e-6),
    # Adadelta's first steps are ~sqrt(epsilon) / sqrt(1 - rho) small, so it is still slow after 200
    (optimizers.Adadelta, {"learning_rate": 1.0}, 0.75),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_optimizers_minimize_a_quadratic(cls, kwargs, max_ratio, rng):
    # f(w) = |w - t|^2 / 2 from w = 0: 200 steps of apply_gradients must shrink it
    opt = cls(**kwargs)
    target = rng.normal(size=50).astype(np.float32)
    w = nk.tensor(np.zeros(50, np.float32))
    start = 0.5 * np.sum(target.astype(np.float64) ** 2)
    for _ in range(200):
        opt.apply_gradients([(nk.tensor(w.numpy() - target), w)])
    end = 0.5 * np.sum((w.numpy().astype(np.float64) - target) ** 2)
    assert end < max_ratio * start, f"{cls.__name__}({kwargs}): loss {start:.4g} -> {end:.4g}"
