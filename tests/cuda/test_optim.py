"""Optimizer update CUDA kernels (csrc/cuda/optim.cu) against the float64 NumPy Keras formulas of
tests/test_keras_conformance.py, run on the emulator (or a GPU): three steps per configuration on
awkward lengths, unused state never touched, bad hyper-parameters and buffers raise."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

import _device
from _device import cu
from _tol import TOL
from test_keras_conformance import init_state, keras_update
from test_optim import CONFIGS, _used_slots, run_kernel

LENGTHS = [1, 7, 33, 257, 1000, 4099]  # 1 and primes: partial warps and blocks; 4099 spans 17 blocks


def check(t, expected, family="optim"):
    _device.check(t, expected, family)


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("n", LENGTHS)
def test_update_matches_keras_formula(config, n, rng):
    name, hp = CONFIGS[config]
    used = _used_slots(name, hp)
    w64 = rng.normal(size=n).astype(np.float32).astype(np.float64)
    ref_state = init_state(name, (n,), hp)
    w = cu(w64)
    # unused state is NaN, so a stray read or write shows
    state = {k: cu(v if k in used else np.full((n,), np.nan)) for k, v in ref_state.items()}
    for step in range(1, 4):
        g = (rng.normal(size=n) * 10.0 ** -rng.integers(0, 6, size=n)).astype(np.float32)  # eps matters
        run_kernel(name, hp, w, state, cu(g), step)
        w64 = keras_update(name, w64, g.astype(np.float64), ref_state, hp, step)
        check(w, w64)
        for k in used:
            check(state[k], ref_state[k])
    for k in set(state) - used:
        assert np.all(np.isnan(state[k].numpy())), k


def test_multidimensional_and_empty_variables(rng):
    w, v = cu(np.ones((3, 5, 7))), cu(np.zeros((3, 5, 7)))
    g = rng.normal(size=(3, 5, 7)).astype(np.float32)
    ops.sgd_update(w, v, cu(g), 0.1, 0.9)
    check(w, 1 - 0.1 * g.astype(np.float64))
    e = cu(np.zeros((0, 4)))
    ops.adam_update(e, cu(np.zeros((0, 4))), cu(np.zeros((0, 4))), None, cu(np.zeros((0, 4))))
    assert tuple(e.shape) == (0, 4)


def test_variants():
    assert [v[:2] for v in backend(cu(np.ones(1))).optim_variants()] == [("elementwise", "cuda")]


def _t(n=4, value=0.0):
    return cu(np.full(n, value))


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("call,match", [
    (lambda k: k.sgd_update(_t(), None, _t(), NAN, 0.0, False), r"Received: learning_rate=nan"),
    (lambda k: k.sgd_update(_t(), _t(), _t(), 0.1, -0.1, False), r"Received: momentum=-0\.1"),
    (lambda k: k.sgd_update(_t(), None, _t(), 0.1, 0.9, False), r"momentum=0\.9 needs the momentum buffer v"),
    (lambda k: k.adagrad_update(_t(), _t(), _t(), INF, 1e-7), r"Received: learning_rate=inf"),
    (lambda k: k.adadelta_update(_t(), _t(), _t(), _t(), 1.0, 1.5, 1e-7), r"Received: rho=1\.5"),
    (lambda k: k.rmsprop_update(_t(), _t(), None, None, _t(), 0.1, 0.9, 0.0, 1e-7, True),
     r"centered=True needs the average_grad"),
    (lambda k: k.adam_update(_t(), _t(), _t(), None, _t(), 0.1, 1.0, 0.999, 1e-7, 1, False),
     r"beta_1 must be in \[0, 1\)\. Received: beta_1=1"),
    (lambda k: k.adam_update(_t(), _t(), _t(), None, _t(), 0.1, 0.9, 0.999, 1e-7, 0, False), r"Received: step=0"),
    (lambda k: k.adam_update(_t(), _t(), _t(), None, _t(), 0.1, 0.9, 0.999, 1e-7, 1, True),
     r"amsgrad=True needs the v_hat"),
    (lambda k: k.adam_update(_t(), _t(3), _t(), None, _t(), 0.1, 0.9, 0.999, 1e-7, 1, False),
     r"state m has shape \(3,\) but the variable w has shape \(4,\)"),
    (lambda k: k.adagrad_update(_t(), _t(), _t(5), 0.1, 1e-7),
     r"gradient g has shape \(5,\) but the variable w has shape \(4,\)"),
])
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(backend(_t()))


def test_aliasing_dtype_and_device():
    k = backend(_t())
    w, m = _t(), _t()
    with pytest.raises(ValueError, match="state v must not share memory"):
        k.adam_update(w, m, m, None, _t(), 0.1, 0.9, 0.999, 1e-7, 1, False)
    with pytest.raises(ValueError, match="w and g must not share memory"):
        k.sgd_update(w, None, w, 0.1, 0.0, False)
    with pytest.raises(TypeError, match="float32"):
        k.sgd_update(cu(np.zeros(4), np.int32), None, _t(), 0.1, 0.0, False)
    with pytest.raises(ValueError, match="cuda"):  # a host gradient given to the device kernel
        k.sgd_update(w, None, nk.tensor(np.zeros(4, np.float32)), 0.1, 0.0, False)
