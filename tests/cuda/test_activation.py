"""CUDA activation kernels (csrc/cuda/activation.cu) on the emulator vs the float64 references of
tests/test_activation.py: every activation forward and backward, softmax / log_softmax on both
reductions (one warp per row up to 1024 columns, one block per row beyond), in place, bad input."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import cuda

from conftest import assert_close
from test_activation import ELEMENTWISE, REF, USES_Y, _inputs, _log_softmax64, _softmax64

LENGTHS = [1, 7, 33, 257, 1000]
# (N, C): C <= 1024 takes the warp-per-row kernel, C > 1024 the block-per-row one; N crosses the
# 4-rows-per-block grouping of the warp kernel.
ROWS = [(1, 1), (1, 7), (5, 33), (9, 257), (2, 1024), (1, 1025), (3, 1500)]


def dev(a):
    return nk.tensor(np.array(a), device="cuda")  # np.array: a C-contiguous copy that keeps 0-d shapes


def nan_dev(shape):
    return dev(np.full(shape, np.nan, np.float32))


def test_names_match_the_cpu_module():
    assert cuda.backend().activation_names() == nk._core.activation_names()
    assert cuda.backend().activation_info() == nk._core.activation_info()


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("n", LENGTHS)
def test_forward_backward_match_float64(rng, name, n):
    fwd, deriv, alpha = REF[name]
    be = cuda.backend()
    x = _inputs(rng, n, name)
    y = nan_dev(x.shape)
    be.activation_forward(y, dev(x), name, alpha)
    y_np = y.numpy()
    assert_close(y_np, fwd(x.astype(np.float64), alpha), "elementwise")

    dy = rng.standard_normal(n).astype(np.float32)
    dx = nan_dev(x.shape)
    be.activation_backward(dx, dev(dy), dev(x), y, name, alpha)
    x64, y64 = x.astype(np.float64), y_np.astype(np.float64)  # y: what the kernel saw
    assert_close(dx.numpy(), dy * deriv(x64, y64, alpha), "elementwise")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_named_kernels_and_in_place(rng, name):
    """<name>_forward / <name>_backward equal the generic entry points bit for bit, also in place."""
    be = cuda.backend()
    _, _, alpha = REF[name]
    x = _inputs(rng, 70, name)
    dy = rng.standard_normal(70).astype(np.float32)
    extra = () if alpha is None else (alpha,)
    y = nan_dev(x.shape)
    getattr(be, name + "_forward")(y, dev(x), *extra)
    y_gen = nan_dev(x.shape)
    be.activation_forward(y_gen, dev(x), name, alpha)
    np.testing.assert_array_equal(y.numpy(), y_gen.numpy())
    t = dev(x)
    getattr(be, name + "_forward")(t, t, *extra)  # y is x
    np.testing.assert_array_equal(t.numpy(), y_gen.numpy())

    saved = y if name in USES_Y else dev(x)
    dx = nan_dev(x.shape)
    getattr(be, name + "_backward")(dx, dev(dy), saved, *extra)
    dx_gen = nan_dev(x.shape)
    be.activation_backward(dx_gen, dev(dy), dev(x), y, name, alpha)
    np.testing.assert_array_equal(dx.numpy(), dx_gen.numpy())
    g = dev(dy)
    getattr(be, name + "_backward")(g, g, saved, *extra)  # dx is dy
    np.testing.assert_array_equal(g.numpy(), dx_gen.numpy())


def test_alpha_is_used(rng):
    be = cuda.backend()
    x = rng.uniform(-3, 3, 33).astype(np.float32)
    for name, a in [("leaky_relu", 0.05), ("elu", 0.7)]:
        fwd, deriv, _ = REF[name]
        y = nan_dev(x.shape)
        be.activation_forward(y, dev(x), name, a)
        assert_close(y.numpy(), fwd(x.astype(np.float64), a), "elementwise")
        dx = nan_dev(x.shape)
        be.activation_backward(dx, dev(np.ones_like(x)), dev(x), None, name, a)
        assert_close(dx.numpy(), deriv(x.astype(np.float64), None, a), "elementwise")
    y = nan_dev(x.shape)
    be.leaky_relu_forward(y, dev(x))  # alpha=None: the default 0.3
    assert_close(y.numpy(), REF["leaky_relu"][0](x.astype(np.float64), 0.3), "elementwise")


@pytest.mark.parametrize("name,ref", [("softmax", _softmax64), ("log_softmax", _log_softmax64)])
@pytest.mark.parametrize("N,C", ROWS)
def test_softmax_family(rng, name, ref, N, C):
    be = cuda.backend()
    x = rng.uniform(-20, 20, (N, C)).astype(np.float32)
    y = nan_dev((N, C))
    be.activation_forward(y, dev(x), name)
    y_np = y.numpy()
    assert_close(y_np, ref(x.astype(np.float64)), "elementwise")

    dy = rng.standard_normal((N, C)).astype(np.float32)
    dx = nan_dev((N, C))
    getattr(be, name + "_backward")(dx, dev(dy), y)
    y64, dy64 = y_np.astype(np.float64), dy.astype(np.float64)
    if name == "softmax":
        want = y64 * (dy64 - (dy64 * y64).sum(-1, keepdims=True))
    else:
        want = dy64 - np.exp(y64) * dy64.sum(-1, keepdims=True)
    assert_close(dx.numpy(), want, "elementwise")


def test_softmax_in_place_on_3d_with_extreme_rows():
    """The CPU test's extreme rows (huge values, -inf, +-3e38), as a (2, 2, 3) tensor: last axis, y is x."""
    x = np.array([[0, 0, 0], [1e4, -1e4, 1e4], [-np.inf, 0, -np.inf], [3e38, 3e38, -3e38]], np.float32)
    t = dev(x.reshape(2, 2, 3))
    cuda.backend().softmax_forward(t, t)
    want = np.array([[1 / 3] * 3, [0.5, 0, 0.5], [0, 1, 0], [0.5, 0.5, 0]]).reshape(2, 2, 3)
    assert_close(t.numpy(), want, "elementwise")


def test_bad_input_raises():
    be = cuda.backend()
    x = dev(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="Unknown activation function: 'relux'. Available: linear, .*softmax"):
        be.activation_forward(x, x, "relux")
    with pytest.raises(ValueError, match="takes no alpha"):
        be.activation_forward(x, x, "relu", 0.5)
    with pytest.raises(ValueError, match="shape"):
        be.relu_forward(dev(np.zeros((3, 4), np.float32)), x)
    with pytest.raises(ValueError, match="cuda"):  # a CPU tensor given to the CUDA kernel
        be.relu_forward(x, nk.tensor(np.zeros((4, 3), np.float32)))
    with pytest.raises(TypeError, match="float32"):
        be.relu_forward(x, dev(np.zeros((4, 3), np.int32)))
    with pytest.raises(ValueError, match="sigmoid_backward needs the saved forward output y"):
        be.activation_backward(x, x, x, None, "sigmoid")
    with pytest.raises(ValueError, match="0-d"):
        be.softmax_forward(dev(np.float32(1.0)), dev(np.float32(1.0)))


def test_softmax_and_activations_under_checking_mode(rng, checking):
    be = cuda.backend()
    for N, C in [(5, 33), (2, 1500)]:  # warp_reduce and block_reduce
        x = rng.uniform(-5, 5, (N, C)).astype(np.float32)
        y, dx = nan_dev((N, C)), nan_dev((N, C))
        be.log_softmax_forward(y, dev(x))
        assert_close(y.numpy(), _log_softmax64(x.astype(np.float64)), "elementwise")
        be.log_softmax_backward(dx, dev(np.ones((N, C), np.float32)), y)
        assert np.all(np.isfinite(dx.numpy()))
    x = _inputs(rng, 300, "silu")
    y = nan_dev(300)
    be.silu_forward(y, dev(x))
    assert_close(y.numpy(), REF["silu"][0](x.astype(np.float64), None), "elementwise")


def test_ops_run_on_the_device(rng):
    x = rng.uniform(-3, 3, (4, 7)).astype(np.float32)
    y = nk.ops.activation(dev(x), "softmax")
    assert y.device == "cuda" and y.shape == (4, 7)
    assert_close(y.numpy(), _softmax64(x.astype(np.float64)), "elementwise")
    r = nk.ops.relu(dev(x))
    assert r.device == "cuda"
    np.testing.assert_array_equal(r.numpy(), np.maximum(x, 0))
