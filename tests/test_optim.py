"""Optimizer update kernels (csrc/cpu/optim*.cpp) against the float64 NumPy Keras formulas of
tests/test_keras_conformance.py, on awkward lengths (SIMD tails, the threaded split) and every ISA."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core, ops

from _shapes import LENGTHS
from conftest import assert_close
from test_keras_conformance import init_state, keras_update

# non-default hyper-parameters so every term of each formula matters
CONFIGS = {
    "sgd": ("sgd", dict(learning_rate=0.1, momentum=0.0, nesterov=False)),
    "sgd_momentum": ("sgd", dict(learning_rate=0.1, momentum=0.9, nesterov=False)),
    "sgd_nesterov": ("sgd", dict(learning_rate=0.1, momentum=0.8, nesterov=True)),
    "adagrad": ("adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=1e-7)),
    "adadelta": ("adadelta", dict(learning_rate=1.0, rho=0.9, epsilon=1e-6)),
    "rmsprop": ("rmsprop", dict(learning_rate=0.01, rho=0.8, momentum=0.0, epsilon=1e-7, centered=False)),
    "rmsprop_momentum": ("rmsprop", dict(learning_rate=0.01, rho=0.8, momentum=0.5, epsilon=1e-7,
                                         centered=False)),
    "rmsprop_centered": ("rmsprop", dict(learning_rate=0.01, rho=0.8, momentum=0.5, epsilon=1e-3,
                                         centered=True)),
    "adam": ("adam", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-7, amsgrad=False)),
    "adam_amsgrad": ("adam", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-7, amsgrad=True)),
}


def _nan_or(value, shape, used):
    """A state tensor: its initial value when the kernel uses it, else NaN (so a stray read shows)."""
    if used:
        return nk.tensor(np.asarray(value, np.float32).copy())
    return nk.tensor(np.full(shape, np.nan, np.float32))


def run_kernel(name, hp, w, state, g, step):
    """One ops.<name>_update call on Tensors; state maps the reference's slot names to Tensors."""
    if name == "sgd":
        ops.sgd_update(w, state["v"] if hp["momentum"] else None, g, hp["learning_rate"], hp["momentum"],
                       hp["nesterov"])
    elif name == "adagrad":
        ops.adagrad_update(w, state["acc"], g, hp["learning_rate"], hp["epsilon"])
    elif name == "adadelta":
        ops.adadelta_update(w, state["acc_grad"], state["acc_delta"], g, hp["learning_rate"], hp["rho"],
                            hp["epsilon"])
    elif name == "rmsprop":
        ops.rmsprop_update(w, state["velocity"], state["mom"] if hp["momentum"] else None,
                           state["avg"] if hp["centered"] else None, g, hp["learning_rate"], hp["rho"],
                           hp["momentum"], hp["epsilon"], hp["centered"])
    elif name == "adam":
        ops.adam_update(w, state["m"], state["v"], state["v_hat"] if hp["amsgrad"] else None, g,
                        hp["learning_rate"], hp["beta_1"], hp["beta_2"], hp["epsilon"], step, hp["amsgrad"])


def _used_slots(name, hp):
    return {"sgd": {"v"} if hp.get("momentum") else set(), "adagrad": {"acc"},
            "adadelta": {"acc_grad", "acc_delta"},
            "rmsprop": {"velocity"} | ({"mom"} if hp.get("momentum") else set())
            | ({"avg"} if hp.get("centered") else set()),
            "adam": {"m", "v"} | ({"v_hat"} if hp.get("amsgrad") else set())}[name]


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("n", LENGTHS)
def test_update_matches_keras_formula(config, n, isa, rng):
    name, hp = CONFIGS[config]
    used = _used_slots(name, hp)
    w64 = rng.normal(size=n).astype(np.float32).astype(np.float64)
    ref_state = init_state(name, (n,), hp)
    w = nk.tensor(w64.astype(np.float32))
    state = {k: _nan_or(v, (n,), k in used) for k, v in ref_state.items()}
    for step in range(1, 4):
        g = (rng.normal(size=n) * 10.0 ** -rng.integers(0, 6, size=n)).astype(np.float32)  # eps matters
        run_kernel(name, hp, w, state, nk.tensor(g), step)
        w64 = keras_update(name, w64, g.astype(np.float64), ref_state, hp, step)
        assert_close(w.numpy(), w64, "optim")
        for k in used:
            assert_close(state[k].numpy(), ref_state[k], "optim")
    for k in set(state) - used:  # unused state is never touched
        assert np.all(np.isnan(state[k].numpy())), k


def test_variants_registered_for_every_isa():
    names = [v[0] for v in ops.optim_variants()]
    assert names == ["scalar", "avx2", "avx512"]
    assert [v[1] for v in ops.optim_variants()] == names
    assert set(ops.available_isas()) <= set(names)


def test_multidimensional_and_empty_variables(isa, rng):
    w = nk.tensor(np.ones((3, 5, 7), np.float32))
    v = nk.zeros((3, 5, 7))
    g = rng.normal(size=(3, 5, 7)).astype(np.float32)
    ops.sgd_update(w, v, nk.tensor(g), 0.1, 0.9)
    assert_close(w.numpy(), 1 - 0.1 * g.astype(np.float64), "optim")
    e = nk.zeros((0, 4))
    ops.adam_update(e, nk.zeros((0, 4)), nk.zeros((0, 4)), None, nk.zeros((0, 4)))  # nothing to do
    assert e.shape == (0, 4)


def test_numpy_gradient_is_accepted(rng):
    w = nk.tensor(np.ones(9, np.float32))
    g = rng.normal(size=9).astype(np.float32)
    ops.sgd_update(w, None, g, 0.5)
    assert_close(w.numpy(), 1 - 0.5 * g.astype(np.float64), "optim")


# ---- bad input --------------------------------------------------------------------------------------

def _t(n=4, value=0.0):
    return nk.tensor(np.full(n, value, np.float32))


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("call,match", [
    (lambda: ops.sgd_update(_t(), None, _t(), NAN), r"Received: learning_rate=nan"),
    (lambda: ops.sgd_update(_t(), None, _t(), -0.01), r"Received: learning_rate=-0\.01"),
    (lambda: ops.sgd_update(_t(), _t(), _t(), 0.1, -0.1),
     r"momentum must be in \[0, 1\]\. Received: momentum=-0\.1"),
    (lambda: ops.sgd_update(_t(), None, _t(), 0.1, 0.9), r"momentum=0\.9 needs the momentum buffer v"),
    (lambda: ops.adagrad_update(_t(), _t(), _t(), INF), r"Received: learning_rate=inf"),
    (lambda: ops.adagrad_update(_t(), _t(), _t(), 0.1, -1e-7), r"Received: epsilon=-1e-07"),
    (lambda: ops.adadelta_update(_t(), _t(), _t(), _t(), 1.0, 1.5),
     r"rho must be in \[0, 1\]\. Received: rho=1\.5"),
    (lambda: ops.rmsprop_update(_t(), _t(), None, None, _t(), 0.1, 0.9, -0.5), r"Received: momentum=-0\.5"),
    (lambda: ops.rmsprop_update(_t(), _t(), None, None, _t(), centered=True),
     r"centered=True needs the average_grad"),
    (lambda: ops.adam_update(_t(), _t(), _t(), None, _t(), beta_1=1.0),
     r"beta_1 must be in \[0, 1\)\. Received: beta_1=1"),
    (lambda: ops.adam_update(_t(), _t(), _t(), None, _t(), beta_2=NAN), r"Received: beta_2=nan"),
    (lambda: ops.adam_update(_t(), _t(), _t(), None, _t(), step=0), r"Received: step=0"),
    (lambda: ops.adam_update(_t(), _t(), _t(), None, _t(), amsgrad=True), r"amsgrad=True needs the v_hat"),
    (lambda: ops.adam_update(_t(), _t(3), _t(), None, _t()),
     r"state m has shape \(3,\) but the variable w has shape \(4,\)"),
    (lambda: ops.adagrad_update(_t(), _t(), _t(5)),
     r"gradient g has shape \(5,\) but the variable w has shape \(4,\)"),
])
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_aliasing_and_dtype():
    w, m = _t(), _t()
    with pytest.raises(ValueError, match="state v must not share memory"):
        ops.adam_update(w, m, m, None, _t())
    with pytest.raises(ValueError, match="w and g must not share memory"):
        ops.sgd_update(w, None, w, 0.1)
    with pytest.raises(TypeError, match="w must have dtype float32, got int64"):
        _core.sgd_update(nk.zeros((4,), "int64"), None, _t(), 0.1, 0.0, False)
    with pytest.raises(TypeError, match="v must have dtype float32, got int32"):
        _core.adam_update(_t(), _t(), nk.zeros((4,), "int32"), None, _t(), 0.1, 0.9, 0.999, 1e-7, 1, False)
