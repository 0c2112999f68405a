"""Activation kernels (csrc/cpu/activation*.cpp) vs float64 NumPy, on every ISA, plus the
Keras-style neurokern.activations module."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import neurokern as nk
from neurokern import activations, ops

from _gradcheck import numeric_grad
from _shapes import LENGTHS
from conftest import assert_close, nan_tensor

SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805


def _sig(x):
    return np.exp(-np.logaddexp(0.0, -x))  # overflow-free, accurate in both tails


# name -> (forward(x, a), derivative(x, y, a), default alpha). Derivatives of the y-based ones use y.
REF = {
    "linear": (lambda x, a: x, lambda x, y, a: np.ones_like(x), None),
    "step": (lambda x, a: (x > 0).astype(np.float64), lambda x, y, a: np.zeros_like(x), None),
    "sign": (lambda x, a: np.sign(x), lambda x, y, a: np.zeros_like(x), None),
    "sigmoid": (lambda x, a: _sig(x), lambda x, y, a: y * (1 - y), None),
    "tanh": (lambda x, a: np.tanh(x), lambda x, y, a: 1 - y * y, None),
    "relu": (lambda x, a: np.maximum(x, 0), lambda x, y, a: (x > 0).astype(np.float64), None),
    "leaky_relu": (lambda x, a: np.where(x > 0, x, a * x), lambda x, y, a: np.where(x > 0, 1.0, a), 0.3),
    "elu": (lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
            lambda x, y, a: np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0))), 1.0),
    "relu6": (lambda x, a: np.clip(x, 0, 6), lambda x, y, a: ((x > 0) & (x < 6)).astype(np.float64), None),
    "softplus": (lambda x, a: np.logaddexp(x, 0), lambda x, y, a: _sig(x), None),
    "softsign": (lambda x, a: x / (1 + np.abs(x)), lambda x, y, a: 1 / (1 + np.abs(x)) ** 2, None),
    "selu": (lambda x, a: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))),
             lambda x, y, a: SELU_S * np.where(x > 0, 1.0, SELU_A * np.exp(np.minimum(x, 0))), None),
    "silu": (lambda x, a: x * _sig(x), lambda x, y, a: _sig(x) * (1 + x * (1 - _sig(x))), None),
    "exponential": (lambda x, a: np.exp(x), lambda x, y, a: np.exp(x), None),
    "hard_sigmoid": (lambda x, a: np.clip(x / 6 + 0.5, 0, 1),
                     lambda x, y, a: ((x > -3) & (x < 3)) / 6.0, None),
}
USES_Y = {"sigmoid", "tanh", "softmax", "log_softmax"}
ELEMENTWISE = list(REF)
# points where f or f' is not smooth (kept away from in gradient checks)
KINKS = {"step": [0], "sign": [0], "relu": [0], "leaky_relu": [0], "elu": [0], "relu6": [0, 6],
         "selu": [0], "hard_sigmoid": [-3, 3]}
SPECIAL = np.array([0.0, -0.0, 1e-7, -1e-7, 1e-4, -1e-4, 0.3, -0.3, 0.62, -0.62, 0.63, -0.63, 1.0, -1.0,
                    3.0, -3.0, 6.0, 9.0, -9.0, 20.0, -20.0, 87.0, -87.0, 88.5, -88.5, 100.0, -100.0,
                    1e4, -1e4, 3e38, -3e38], dtype=np.float32)


def _inputs(rng, n, name):
    x = rng.uniform(-12, 12, n).astype(np.float32)
    k = min(n, SPECIAL.size)
    x[:k] = SPECIAL[rng.permutation(SPECIAL.size)[:k]]
    if name == "exponential":
        x = np.minimum(x, 80.0)  # exp overflows float32 above ~88.7: the reference would be inf
    return x


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("n", LENGTHS)
def test_forward_matches_float64(isa, rng, name, n):
    fwd, _, alpha = REF[name]
    x = _inputs(rng, n, name)
    y = nan_tensor(x.shape)
    ops.activation(nk.tensor(x), name, alpha, out=y)
    assert_close(y.numpy(), fwd(x.astype(np.float64), alpha), "elementwise")


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("n", LENGTHS)
def test_backward_matches_float64(isa, rng, name, n):
    fwd, deriv, alpha = REF[name]
    x = _inputs(rng, n, name)
    dy = rng.standard_normal(n).astype(np.float32)
    y = ops.activation(x, name, alpha)
    dx = nan_tensor(x.shape)
    ops.activation_backward(nk.tensor(dy), x, y, name, alpha, out=dx)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)  # y: what the kernel saw
    assert_close(dx.numpy(), dy * deriv(x64, y64, alpha), "elementwise")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_named_ops_match_generic(rng, name):
    x = _inputs(rng, 257, name)
    dy = rng.standard_normal(257).astype(np.float32)
    alpha = REF[name][2]
    y = getattr(ops, name)(x) if alpha is None else getattr(ops, name)(x, alpha)
    np.testing.assert_array_equal(y, ops.activation(x, name, alpha))
    saved = y if name in USES_Y else x
    bwd = getattr(ops, name + "_backward")
    dx = bwd(dy, saved) if alpha is None else bwd(dy, saved, alpha)
    np.testing.assert_array_equal(dx, ops.activation_backward(dy, x, y, name, alpha))
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == x.shape


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_is_derivative_of_forward(isa, rng, name):
    """Central differences of the float64 reference forward vs the kernel's backward."""
    fwd, _, alpha = REF[name]
    x = rng.uniform(-4, 4, 24)
    for k in KINKS.get(name, []):
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    x = x.astype(np.float32)
    dy = rng.standard_normal(x.size).astype(np.float32)
    y = ops.activation(x, name, alpha)
    dx = ops.activation_backward(dy, x, y, name, alpha)
    num = numeric_grad(lambda v: np.array(fwd(v, alpha)), x.astype(np.float64), dy=dy.astype(np.float64))
    assert_close(dx, num, "elementwise")  # float32 kernel vs exact derivative
    # and the float64 formula itself is the derivative, at the finite-difference tolerance
    _, deriv, _ = REF[name]
    x64 = x.astype(np.float64)
    assert_close(dy * deriv(x64, fwd(x64, alpha), alpha), num, "grad_fd", dtype=np.float64)


def test_no_nan_or_inf_at_extremes(isa):
    x = np.array([-1e4, -100, -88.7, -50, -1e-30, 0, 1e-30, 50, 88.7, 100, 1e4, -3e38, 3e38], np.float32)
    for name in ELEMENTWISE:
        if name in ("exponential", "linear"):
            continue
        y = ops.activation(x, name)
        assert np.all(np.isfinite(y)), (name, y)
        dx = ops.activation_backward(np.ones_like(x), x, y, name)
        assert np.all(np.isfinite(dx)), (name, dx)
    assert ops.tanh(x)[0] == -1.0 and ops.tanh(x)[-3] == 1.0
    assert ops.sigmoid(x)[0] == 0.0 and ops.sigmoid(x)[-3] == 1.0
    np.testing.assert_array_equal(ops.softplus(np.array([1e4, 100], np.float32)), [1e4, 100])


def test_nan_handling_is_the_same_on_every_isa(isa):
    """NaN inputs give the same NaN / non-NaN outputs as the scalar (libm) reference."""
    x = np.array([np.nan, 1.0, -np.nan, -2.0] * 9, np.float32)
    prev = ops.set_isa("scalar")
    try:
        ref = {name: ops.activation(x, name) for name in ELEMENTWISE}
    finally:
        ops.set_isa(prev)
    for name in ELEMENTWISE:
        y = ops.activation(x, name)
        np.testing.assert_array_equal(np.isnan(y), np.isnan(ref[name]), err_msg=name)
    assert np.isnan(ops.tanh(x)[0]) and np.isnan(ops.sigmoid(x)[0]) and ops.relu(x)[0] == 0.0


def test_small_tanh_has_no_cancellation(isa):
    """tanh(x) ~ x near 0: the naive 1 - 2/(e^2x + 1) loses all digits there. Compare tanh(x)/x
    (~1) so the absolute part of the tolerance cannot hide a relative error."""
    x = np.array([1e-8, -1e-6, 3e-5, 1e-3, -0.01, 0.1, 0.6], np.float32)
    x64 = x.astype(np.float64)
    assert_close(ops.tanh(x) / x, np.tanh(x64) / x64, "elementwise", dtype=np.float32)
    xa, xa64 = np.abs(x), np.abs(x64)
    assert_close(ops.elu(-xa) / xa, np.expm1(-xa64) / xa64, "elementwise")  # expm1, not exp - 1


def test_sign_and_step_values(isa):
    x = np.array([-2, -0.0, 0.0, 1e-30, 3], np.float32)
    np.testing.assert_array_equal(ops.sign(x), [-1, 0, 0, 1, 1])
    np.testing.assert_array_equal(ops.step(x), [0, 0, 0, 1, 1])
    assert np.isnan(ops.sign(np.array([np.nan], np.float32))[0])


def test_in_place(isa, rng):
    x = rng.standard_normal(1000).astype(np.float32)
    t = nk.tensor(x.copy())
    ops.activation(t, "elu", 0.5, out=t)
    assert_close(t.numpy(), REF["elu"][0](x.astype(np.float64), 0.5), "elementwise")
    dy = nk.tensor(np.ones(1000, np.float32))
    ops.relu_backward(dy, x, out=dy)
    np.testing.assert_array_equal(dy.numpy(), (x > 0).astype(np.float32))


def test_threads_give_identical_results(rng):
    x = rng.uniform(-10, 10, 70000).astype(np.float32)
    prev = nk.get_num_threads()
    try:
        outs = []
        for t in (1, 2):
            nk.set_num_threads(t)
            outs.append((ops.tanh(x), ops.softmax(x.reshape(70, 1000))))
    finally:
        nk.set_num_threads(prev)
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


# ---- softmax / log_softmax ------------------------------------------------------------------------
SOFTMAX_SHAPES = [(1,), (7,), (1, 1), (1, 7), (7, 1), (3, 16), (5, 33), (4, 257), (64, 10), (70, 1000),
                  (2, 3, 17)]


def _softmax64(x):
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax64(x):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
def test_softmax_forward_backward(isa, rng, shape):
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    if x.ndim >= 2 and x.shape[0] > 2:
        x[1] += 1e4    # a row of huge values: fine after subtracting the row max
        x[2] -= 100
    y = nan_tensor(shape)
    ops.activation(nk.tensor(x), "softmax", out=y)
    assert_close(y.numpy(), _softmax64(x.astype(np.float64)), "elementwise")
    assert_close(y.numpy().sum(axis=-1), np.ones(shape[:-1]), "reduce")
    dy = rng.standard_normal(shape).astype(np.float32)
    dx = nan_tensor(shape)
    ops.softmax_backward(nk.tensor(dy), y, out=dx)
    y64 = y.numpy().astype(np.float64)
    ref = y64 * (dy - (dy * y64).sum(axis=-1, keepdims=True))
    assert_close(dx.numpy(), ref, "elementwise")


@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
def test_log_softmax_forward_backward(isa, rng, shape):
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    if x.ndim >= 2 and x.shape[0] > 2:
        x[1] += 1e4
    y = nan_tensor(shape)
    ops.log_softmax(nk.tensor(x), out=y)
    # |log p| grows with the spread of a row: compare with a tolerance relative to the row scale
    assert_close(y.numpy(), _log_softmax64(x.astype(np.float64)), "elementwise")
    dy = rng.standard_normal(shape).astype(np.float32)
    dx = nan_tensor(shape)
    ops.log_softmax_backward(nk.tensor(dy), y, out=dx)
    y64 = y.numpy().astype(np.float64)
    ref = dy - np.exp(y64) * dy.sum(axis=-1, keepdims=True)
    assert_close(dx.numpy(), ref, "elementwise")


@pytest.mark.parametrize("name,ref", [("softmax", _softmax64), ("log_softmax", _log_softmax64)])
def test_softmax_gradcheck(rng, name, ref):
    x = rng.standard_normal((3, 5)).astype(np.float32)
    dy = rng.standard_normal((3, 5))
    y = ops.activation(x, name)
    dx = ops.activation_backward(dy.astype(np.float32), None, y, name)
    num = numeric_grad(ref, x.astype(np.float64), dy=dy)
    assert_close(dx, num, "elementwise")


def test_softmax_in_place_and_extreme_rows(isa):
    x = np.array([[0, 0, 0], [1e4, -1e4, 1e4], [-np.inf, 0, -np.inf], [3e38, 3e38, -3e38]], np.float32)
    t = nk.tensor(x.copy())
    ops.softmax(t, out=t)
    assert_close(t.numpy(), np.array([[1 / 3] * 3, [0.5, 0, 0.5], [0, 1, 0], [0.5, 0.5, 0]]), "elementwise")


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_input_raises():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="Unknown activation function: 'relux'. Available: linear, .*softmax"):
        ops.activation(x, "relux")
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        ops.activation(x, "elu", float("nan"))
    with pytest.raises(ValueError, match="takes no alpha"):
        ops.activation(x, "relu", 0.5)
    with pytest.raises(ValueError, match=r"shape"):
        ops.activation(x, "relu", out=nk.zeros((3, 2)))
    with pytest.raises(TypeError, match="float32"):
        nk.ops._util.backend(nk.tensor(x)).activation_forward(nk.zeros((2, 3)), nk.tensor(np.zeros((2, 3), np.int32)), "relu")
    with pytest.raises(ValueError, match=r"dy .*\(2, 3\)|shape"):
        ops.relu_backward(np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="needs the saved forward output y"):
        ops.activation_backward(x, x, None, "sigmoid")
    with pytest.raises(ValueError, match="needs the saved forward input x"):
        ops.activation_backward(x, None, x, "relu")
    scalar = nk._core.empty([], "float32")
    with pytest.raises(ValueError, match="0-d"):
        nk._core.softmax_forward(scalar, scalar)
    with pytest.raises(ValueError, match="0-d"):
        ops.softmax(np.float32(1.0))
    assert ops.relu(np.float32(-2.0)).shape == ()  # elementwise ones accept 0-d
    with pytest.raises(TypeError):
        ops.relu("not an array")
    buf = nk.tensor(np.zeros(10, np.float32))
    a, b = buf.numpy()[:8], buf.numpy()[2:]
    with pytest.raises(ValueError, match="overlap partially"):
        nk._core.relu_forward(nk.tensor(a), nk.tensor(b))


# ---- neurokern.activations (Keras API) --------------------------------------------------------
def test_keras_functions_return_same_kind(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    y = activations.relu(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    t = activations.sigmoid(nk.tensor(x))
    assert isinstance(t, nk.Tensor) and t.shape == (4, 5)
    assert_close(activations.softmax(x), _softmax64(x.astype(np.float64)), "elementwise")
    assert_close(activations.leaky_relu(x), REF["leaky_relu"][0](x.astype(np.float64), 0.2), "elementwise")
    assert_close(activations.relu(x, negative_slope=0.1), REF["leaky_relu"][0](x.astype(np.float64), 0.1),
                 "elementwise")
    assert_close(activations.relu(x * 10, max_value=6), np.clip(x * 10.0, 0, 6), "elementwise")
    assert_close(activations.swish(x), REF["silu"][0](x.astype(np.float64), None), "elementwise")
    assert_close(activations.linear(x), x, "elementwise")
    with pytest.raises(ValueError, match="only implemented over the last axis"):
        activations.softmax(x, axis=0)
    with pytest.raises(ValueError, match="threshold"):
        activations.relu(x, threshold=1.0)
    with pytest.raises(ValueError, match="negative_slope must be a finite number"):
        activations.leaky_relu(x, negative_slope=float("nan"))


def test_get_and_serialize():
    assert activations.get(None).name == "linear"
    assert activations.get("linear").name == "linear"
    relu = activations.get("relu")
    assert isinstance(relu, activations.Activation) and relu.name == "relu" and relu.alpha is None
    assert activations.get(relu) is relu
    assert activations.get(activations.tanh).name == "tanh"
    assert activations.get("swish").name == "silu"
    assert activations.get("leaky_relu").alpha == 0.2  # Keras 3 function default
    assert activations.Activation("leaky_relu").alpha == 0.3  # LeakyReLU layer default
    assert activations.Activation("leaky_relu", 0.3).serialize() == "leaky_relu"
    with pytest.raises(ValueError, match=r"Unknown activation function: 'relux'\. Available: .*relu"):
        activations.get("relux")
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)
    for ident in ["relu", "softmax", "elu", {"name": "elu", "alpha": 0.5}, "leaky_relu"]:
        act = activations.get(ident)
        again = activations.deserialize(activations.serialize(act))
        assert again == act, ident
    assert activations.serialize("sigmoid") == "sigmoid"
    assert activations.serialize(activations.Activation("elu", 0.5)) == {"name": "elu", "alpha": 0.5}


def test_activation_object_forward_backward(rng):
    x = rng.standard_normal((3, 8)).astype(np.float32)
    dy = rng.standard_normal((3, 8)).astype(np.float32)
    for name in ["relu", "sigmoid", "tanh", "softmax", "elu"]:
        act = activations.get(name)
        xt = nk.tensor(x)
        y = act.forward(xt)
        assert isinstance(y, nk.Tensor)
        dx = act.backward(nk.tensor(dy), xt, y)
        assert isinstance(dx, nk.Tensor)
        np.testing.assert_array_equal(dx.numpy(), ops.activation_backward(dy, x, y.numpy(), act.name, act.alpha))


def test_custom_callable_activation():
    def double(x):
        return ops.scale(x, 2.0)

    act = activations.get(double)
    x = np.ones(3, np.float32)
    np.testing.assert_array_equal(act(x), 2 * x)
    with pytest.raises(NotImplementedError, match="no gradient"):
        act.backward(x, x, x)
    double.backward = lambda dy, x, y: ops.scale(dy, 2.0)
    np.testing.assert_array_equal(act.backward(x, x, None), 2 * x)


# ---- property tests (hypothesis): arbitrary finite float32 rows, every ISA ------------------------
_rows = arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 40)),
               elements=st.floats(-2.0 ** 100, 2.0 ** 100, width=32))


@settings(max_examples=40, deadline=None)
@given(_rows)
def test_softmax_property(x):
    ref = _softmax64(x.astype(np.float64))
    prev = ops.get_isa()
    try:
        for isa in ops.available_isas():
            ops.set_isa(isa)
            y = ops.softmax(x)
            assert_close(y, ref, "elementwise")
            assert np.all((y >= 0) & (y <= 1))
    finally:
        ops.set_isa(prev)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.integers(1, 100), elements=st.floats(-1e4, 1e4, width=32)),
       st.sampled_from(["sigmoid", "tanh", "softplus", "elu", "selu", "silu", "softsign"]))
def test_activation_property(x, name):
    fwd, _, alpha = REF[name]
    ref = fwd(x.astype(np.float64), alpha)
    prev = ops.get_isa()
    try:
        for isa in ops.available_isas():
            ops.set_isa(isa)
            assert_close(ops.activation(x, name, alpha), ref, "elementwise")
    finally:
        ops.set_isa(prev)


def test_keras_docstring_values():
    """Values printed in the Keras / tf.keras activation docstrings pin our definitions to Keras."""
    f = np.array([-10, -5, 0.0, 5, 10], np.float32)
    assert_close(activations.relu(f), np.array([0.0, 0.0, 0.0, 5.0, 10.0]), "elementwise")
    assert_close(activations.relu(f, negative_slope=0.5), np.array([-5.0, -2.5, 0.0, 5.0, 10.0]), "elementwise")
    a = np.array([-20, -1.0, 0.0, 1.0, 20], np.float32)
    assert_close(activations.sigmoid(a), np.array([2.0611537e-09, 2.6894143e-01, 5.0e-01, 7.3105860e-01, 1.0]),
                 "elementwise")
    assert_close(activations.softplus(a), np.array([2.0611537e-09, 3.1326166e-01, 6.9314718e-01, 1.3132616,
                                                    20.0]), "elementwise")
    b = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], np.float32)
    assert_close(activations.tanh(b), np.array([-0.9950547, -0.7615942, 0.0, 0.7615942, 0.9950547]), "elementwise")
    assert_close(activations.exponential(b), np.array([0.04978707, 0.36787945, 1.0, 2.7182817, 20.085537]),
                 "elementwise")
    # Keras 3 hard_sigmoid is relu6(x + 3) / 6 (Keras 2 used clip(0.2 x + 0.5, 0, 1))
    assert_close(activations.hard_sigmoid(b), np.array([0.0, 1 / 3, 0.5, 2 / 3, 1.0]), "elementwise")
