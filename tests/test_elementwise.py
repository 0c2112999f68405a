"""Elementwise arithmetic and reductions (csrc/cpu/elementwise*.cpp) vs float64 NumPy, every ISA."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import neurokern as nk
from neurokern import ops

from _shapes import LENGTHS
from _tol import TOL
from conftest import assert_close, nan_tensor

# (1000, 70) and (50000, 3) take the row-block path of the column sums, (40, 1000) the column split
MATRIX_SHAPES = [(1, 1), (1, 7), (7, 1), (3, 16), (5, 33), (33, 257), (64, 512), (1000, 70), (40, 1000),
                 (50000, 3), (2, 3, 5)]


def _f32(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_bias_add_forward(isa, rng, shape):
    x, b = _f32(rng, shape), _f32(rng, shape[-1])
    y = nan_tensor(shape)
    ops.bias_add(nk.tensor(x), b, out=y)
    assert_close(y.numpy(), x.astype(np.float64) + b, "elementwise")


def test_bias_add_in_place(isa, rng):
    x, b = _f32(rng, (33, 257)), _f32(rng, 257)
    t = nk.tensor(x.copy())
    assert ops.bias_add(t, b, out=t) is t
    assert_close(t.numpy(), x.astype(np.float64) + b, "elementwise")


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_bias_add_backward_accumulates(isa, rng, shape):
    dy = _f32(rng, shape)
    ref = dy.astype(np.float64).reshape(-1, shape[-1]).sum(axis=0)
    fresh = ops.bias_add_backward(dy)
    assert_close(fresh, ref, "reduce")
    db = nk.tensor(np.full(shape[-1], 0.5, np.float32))
    ops.bias_add_backward(dy, db)
    ops.bias_add_backward(nk.tensor(dy), db)  # runs twice without zeroing: db = 0.5 + 2 * sum
    assert_close(db.numpy(), 0.5 + 2 * ref, "reduce")
    arr = np.zeros(shape[-1], np.float32)
    assert ops.bias_add_backward(dy, arr) is arr  # a NumPy db is updated in place too
    assert_close(arr, ref, "reduce")


@pytest.mark.parametrize("op,ref", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                                    ("div", np.divide)])
@pytest.mark.parametrize("n", LENGTHS)
def test_binary(isa, rng, op, ref, n):
    a, b = _f32(rng, n), _f32(rng, n)
    if op == "div":
        b = np.where(np.abs(b) < 0.1, 0.5, b).astype(np.float32)
    y = nan_tensor((n,))
    getattr(ops, op)(a, nk.tensor(b), out=y)
    assert_close(y.numpy(), ref(a.astype(np.float64), b), "elementwise")


def test_binary_scalars_and_aliasing(isa, rng):
    a = _f32(rng, 257)
    assert_close(ops.add(a, 2.5), a + 2.5, "elementwise")
    assert_close(ops.sub(a, 2.5), a - 2.5, "elementwise")
    assert_close(ops.mul(a, 3.0), a * 3.0, "elementwise")
    assert_close(ops.div(a, 4.0), a / 4.0, "elementwise")
    t = nk.tensor(a.copy())
    ops.mul(t, t, out=t)  # y = a * a, all three the same buffer
    assert_close(t.numpy(), a.astype(np.float64) ** 2, "elementwise")


@pytest.mark.parametrize("n", LENGTHS)
def test_scale_axpy_fill_copy_square_sqrt(isa, rng, n):
    x, y0 = _f32(rng, n), _f32(rng, n)
    x64 = x.astype(np.float64)
    out = nan_tensor((n,))
    ops.scale(x, -1.5, out=out)
    assert_close(out.numpy(), -1.5 * x64, "elementwise")
    y = nk.tensor(y0.copy())
    assert ops.axpy(y, x, 0.25) is y
    assert_close(y.numpy(), y0 + 0.25 * x64, "elementwise")
    out = nan_tensor((n,))
    assert ops.fill(out, 3.25) is out
    assert np.all(out.numpy() == 3.25)
    out = nan_tensor((n,))
    ops.copy(x, out=out)
    np.testing.assert_array_equal(out.numpy(), x)
    out = nan_tensor((n,))
    ops.square(x, out=out)
    assert_close(out.numpy(), x64 ** 2, "elementwise")
    out = nan_tensor((n,))
    ops.sqrt(np.abs(x), out=out)
    assert_close(out.numpy(), np.sqrt(np.abs(x64)), "elementwise")


@pytest.mark.parametrize("n", LENGTHS + [1024, 1025, 300001])
def test_sum_and_mean_all(isa, rng, n):
    x = (rng.standard_normal(n) + 1.0).astype(np.float32)
    ref = x.astype(np.float64).sum()
    s = ops.sum(x)
    assert isinstance(s, float)
    assert_close(np.float32(s), ref, "reduce")
    assert_close(np.float32(ops.mean(nk.tensor(x))), ref / n, "reduce")


def test_sum_is_accurate_where_float32_loop_is_not(isa):
    x = np.full(1 << 21, 0.1, np.float32)
    exact = float(np.float64(x[0]) * x.size)
    naive = np.cumsum(x, dtype=np.float32)[-1]  # a float32 running sum drifts by ~1e-3 here
    assert abs(naive - exact) > 100 * abs(exact) * 1e-5
    assert_close(np.float32(ops.sum(x)), exact, "reduce")


def test_sum_independent_of_threads(rng):
    x = rng.standard_normal(300001).astype(np.float32)
    prev = nk.get_num_threads()
    try:
        nk.set_num_threads(1)
        s1, c1, d1 = ops.sum(x), ops.sum(x[:300000].reshape(3000, 100), axis=0), \
            ops.sum(x[:300000].reshape(1500, 200), axis=0)
        nk.set_num_threads(2)
        s2, c2, d2 = ops.sum(x), ops.sum(x[:300000].reshape(3000, 100), axis=0), \
            ops.sum(x[:300000].reshape(1500, 200), axis=0)
    finally:
        nk.set_num_threads(prev)
    assert s1 == s2
    np.testing.assert_array_equal(c1, c2)  # row blocks
    np.testing.assert_array_equal(d1, d2)  # column split


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_sum_and_mean_axis0(isa, rng, shape):
    x = _f32(rng, shape)
    out = nan_tensor(shape[1:])
    ops.sum(x, axis=0, out=out)
    assert_close(out.numpy(), x.astype(np.float64).sum(axis=0), "reduce")
    m = ops.mean(nk.tensor(x), axis=0)
    assert isinstance(m, nk.Tensor)
    assert_close(m.numpy(), x.astype(np.float64).mean(axis=0), "reduce")


@pytest.mark.parametrize("shape", MATRIX_SHAPES + [(9,)])
def test_argmax(isa, rng, shape):
    x = _f32(rng, shape)
    x[..., -1] = x.max(axis=-1)  # ties: the first index wins, as in NumPy
    if len(shape) > 1:
        out = nan_tensor(shape[:-1], dtype="int64")
        ops.argmax(nk.tensor(x), out=out)
        np.testing.assert_array_equal(out.numpy(), np.argmax(x, axis=-1))
        assert out.dtype == "int64"
    res = ops.argmax(x)
    assert res.dtype == np.int64 and res.shape == shape[:-1]
    np.testing.assert_array_equal(res, np.argmax(x, axis=-1))


def test_argmax_nan_and_inf(isa):
    x = np.array([[1, np.nan, 5, np.nan], [-np.inf, -np.inf, -np.inf, -np.inf], [0, np.inf, 2, np.inf]],
                 np.float32)
    np.testing.assert_array_equal(ops.argmax(x), np.argmax(x, axis=-1))


def test_bad_input_raises(rng):
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="must match the bias length 4"):
        ops.bias_add(x, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="b .*dimension|b.*rank|ndim|dimensions"):
        ops.bias_add(x, np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        ops.add(x, np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError, match="float32"):
        nk._core.add(nk.zeros((2,)), nk.zeros((2,)), nk.tensor(np.zeros(2, np.int32)))
    with pytest.raises(TypeError, match="int64"):
        nk._core.argmax_rows(nk.zeros((4,)), nk.tensor(x))
    with pytest.raises(ValueError, match="axis"):
        ops.sum(x, axis=1)
    with pytest.raises(TypeError, match="axis"):
        ops.sum(x, axis="rows")
    with pytest.raises(ValueError, match="last axis"):
        ops.argmax(x, axis=0)
    with pytest.raises(ValueError, match="empty"):
        ops.mean(np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="in place"):
        ops.axpy(np.zeros(3, np.float64), np.zeros(3, np.float32), 1.0)
    with pytest.raises(ValueError, match="in place"):
        ops.bias_add_backward(x, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="out has shape"):
        ops.scale(x, 2.0, out=nk.zeros((3, 4)))
    buf = nk.tensor(np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="overlap partially"):
        nk._core.copy(nk.tensor(buf.numpy()[:8]), nk.tensor(buf.numpy()[2:]))


def test_empty_inputs():
    e = np.zeros((0, 5), np.float32)
    assert ops.sum(e) == 0.0
    np.testing.assert_array_equal(ops.sum(e, axis=0), np.zeros(5))
    assert ops.bias_add(e, np.ones(5, np.float32)).shape == (0, 5)
    assert ops.argmax(e).shape == (0,)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 30), st.integers(1, 30)),
              elements=st.floats(-1e6, 1e6, width=32) | st.just(np.nan) | st.just(np.inf)))
def test_argmax_and_sum_property(x):
    prev = ops.get_isa()
    try:
        for isa in ops.available_isas():
            ops.set_isa(isa)
            np.testing.assert_array_equal(ops.argmax(x), np.argmax(x, axis=-1))
            finite = np.nan_to_num(x, nan=0.0, posinf=1.0)
            ref = finite.astype(np.float64).sum()
            # cancelling terms: bound the error relative to sum |x|, the scale float32 lanes work at
            rtol, atol = TOL["reduce"]
            assert abs(ops.sum(finite) - ref) <= rtol * np.abs(finite).astype(np.float64).sum() + atol
    finally:
        ops.set_isa(prev)
