"""CUDA elementwise kernels and reductions (csrc/cuda/elementwise.cu) on the emulator vs float64 NumPy:
bias_add (backward ACCUMULATES), add/sub/mul/div, scale/axpy/fill/copy/square/sqrt, sum_rows,
sum_all/mean_all, argmax_rows (ties and NaN like NumPy), empty inputs and bad input."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import cuda

from conftest import assert_close

LENGTHS = [1, 7, 33, 257, 1000, 5000]
MATRIX_SHAPES = [(1, 1), (1, 7), (7, 1), (5, 33), (33, 257), (257, 3), (2, 3, 17)]


def dev(a):
    return nk.tensor(np.array(a), device="cuda")  # np.array: a C-contiguous copy that keeps 0-d shapes


def nan_dev(shape, dtype=np.float32):
    return dev(np.full(shape, np.nan, np.float32) if dtype == np.float32 else np.full(shape, -7, dtype))


def f32(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_bias_add_forward_and_backward_accumulates(rng, shape):
    be = cuda.backend()
    x, b = f32(rng, shape), f32(rng, shape[-1:])
    y = nan_dev(shape)
    be.bias_add_forward(y, dev(x), dev(b))
    assert_close(y.numpy(), x.astype(np.float64) + b, "elementwise")
    t = dev(x)
    be.bias_add_forward(t, t, dev(b))  # in place
    np.testing.assert_array_equal(t.numpy(), y.numpy())

    dy = f32(rng, shape)
    db0 = f32(rng, shape[-1:])
    db = dev(db0)
    be.bias_add_backward(db, dev(dy))
    want = db0.astype(np.float64) + dy.astype(np.float64).reshape(-1, shape[-1]).sum(axis=0)
    assert_close(db.numpy(), want, "reduce")


@pytest.mark.parametrize("op,ref", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                                    ("div", np.divide)])
@pytest.mark.parametrize("n", LENGTHS)
def test_binary(rng, op, ref, n):
    be = cuda.backend()
    a, b = f32(rng, n), f32(rng, n)
    if op == "div":
        b = np.where(np.abs(b) < 0.1, 0.5, b).astype(np.float32)
    y = nan_dev(n)
    getattr(be, op)(y, dev(a), dev(b))
    assert_close(y.numpy(), ref(a.astype(np.float64), b.astype(np.float64)), "elementwise")
    ta, tb = dev(a), dev(b)
    getattr(be, op)(ta, ta, tb)  # y is a
    getattr(be, op)(tb, dev(a), tb)  # y is b
    np.testing.assert_array_equal(ta.numpy(), y.numpy())
    np.testing.assert_array_equal(tb.numpy(), y.numpy())


@pytest.mark.parametrize("n", LENGTHS)
def test_scale_axpy_fill_copy_square_sqrt(rng, n):
    be = cuda.backend()
    x, y0 = f32(rng, n), f32(rng, n)
    x64 = x.astype(np.float64)
    y = nan_dev(n)
    be.scale(y, dev(x), -2.5)
    assert_close(y.numpy(), -2.5 * x64, "elementwise")
    y = dev(y0)
    be.axpy(y, dev(x), 0.75)
    assert_close(y.numpy(), y0 + 0.75 * x64, "elementwise")
    y = nan_dev(n)
    be.fill(y, 3.25)
    np.testing.assert_array_equal(y.numpy(), np.full(n, 3.25, np.float32))
    y = nan_dev(n)
    be.copy(y, dev(x))
    np.testing.assert_array_equal(y.numpy(), x)
    y = nan_dev(n)
    be.square(y, dev(x))
    assert_close(y.numpy(), x64 * x64, "elementwise")
    y = nan_dev(n)
    be.sqrt(y, dev(np.abs(x)))
    assert_close(y.numpy(), np.sqrt(np.abs(x64)), "elementwise")
    y = nan_dev(2)
    be.sqrt(y, dev(np.array([-1.0, 4.0], np.float32)))
    assert np.isnan(y.numpy()[0]) and y.numpy()[1] == 2.0


@pytest.mark.parametrize("shape", MATRIX_SHAPES + [(3000, 2)])
def test_sum_rows(rng, shape):
    x = f32(rng, shape)
    out = nan_dev(shape[1:])
    cuda.backend().sum_rows(out, dev(x))
    assert_close(out.numpy(), x.astype(np.float64).sum(axis=0), "reduce")


@pytest.mark.parametrize("n", LENGTHS + [70001])
def test_sum_and_mean_all(rng, n):
    be = cuda.backend()
    x = f32(rng, n, scale=3.0) + 1.0
    s, m = be.sum_all(dev(x)), be.mean_all(dev(x))
    assert isinstance(s, float) and isinstance(m, float)
    np.testing.assert_allclose(s, x.astype(np.float64).sum(), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(m, x.astype(np.float64).mean(), rtol=1e-6, atol=1e-7)


def test_sum_is_accurate_where_a_float32_loop_is_not():
    x = np.full(100000, 0.1, np.float32)  # a float32 running sum drifts by ~1e-3 relative here
    s = cuda.backend().sum_all(dev(x))
    assert abs(s - 100000 * float(np.float32(0.1))) < 1e-2


@pytest.mark.parametrize("shape", MATRIX_SHAPES + [(9,), (3, 100)])
def test_argmax(rng, shape):
    x = f32(rng, shape)
    x[..., -1] = x.max(axis=-1)  # ties: the first index wins, as in NumPy
    out = nan_dev(shape[:-1], dtype=np.int64)
    cuda.backend().argmax_rows(out, dev(x))
    got = out.numpy()
    assert got.dtype == np.int64 and got.shape == shape[:-1]
    np.testing.assert_array_equal(got, np.argmax(x, axis=-1))


def test_argmax_nan_and_inf_across_lanes():
    x = np.full((4, 70), -1.0, np.float32)
    x[0, [40, 5, 66]] = np.nan               # first NaN (index 5) wins
    x[1, :] = -np.inf                         # all equal: index 0
    x[2, [3, 35, 67]] = np.inf                # first +inf, owned by lane 3
    x[3, [69, 37, 34]] = 2.0                  # ties in one lane (37, 69) and across lanes (34)
    out = nan_dev((4,), dtype=np.int64)
    cuda.backend().argmax_rows(out, dev(x))
    np.testing.assert_array_equal(out.numpy(), np.argmax(x, axis=-1))
    np.testing.assert_array_equal(out.numpy(), [5, 0, 3, 34])


def test_empty_inputs():
    be = cuda.backend()
    e = dev(np.zeros((0, 5), np.float32))
    assert be.sum_all(e) == 0.0
    out = nan_dev((5,))
    be.sum_rows(out, e)
    np.testing.assert_array_equal(out.numpy(), np.zeros(5))
    y = dev(np.zeros((0, 5), np.float32))
    be.bias_add_forward(y, e, dev(np.ones(5, np.float32)))
    am = dev(np.zeros((0,), np.int64))
    be.argmax_rows(am, e)
    assert am.numpy().shape == (0,)


def test_bad_input_raises():
    be = cuda.backend()
    x = dev(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="must match the bias length 4"):
        be.bias_add_forward(x, x, dev(np.zeros(4, np.float32)))
    with pytest.raises(ValueError, match="shape"):
        be.add(x, x, dev(np.zeros((3, 4), np.float32)))
    with pytest.raises(TypeError, match="float32"):
        be.add(x, x, dev(np.zeros((4, 3), np.int32)))
    with pytest.raises(TypeError, match="int64"):
        be.argmax_rows(dev(np.zeros(4, np.float32)), x)
    with pytest.raises(ValueError, match="cuda"):  # a CPU tensor given to the CUDA kernel
        be.scale(x, nk.tensor(np.zeros((4, 3), np.float32)), 2.0)
    with pytest.raises(ValueError, match="cuda"):
        be.argmax_rows(nk.tensor(np.zeros(4, np.int64)), x)
    with pytest.raises(ValueError, match="empty"):
        be.mean_all(dev(np.zeros(0, np.float32)))


def test_reductions_under_checking_mode(rng, checking):
    be = cuda.backend()
    x = f32(rng, (300, 37))
    out = nan_dev((37,))
    be.sum_rows(out, dev(x))
    assert_close(out.numpy(), x.astype(np.float64).sum(axis=0), "reduce")
    np.testing.assert_allclose(be.sum_all(dev(x)), x.astype(np.float64).sum(), rtol=1e-6, atol=1e-5)
    am = nan_dev((300,), dtype=np.int64)
    be.argmax_rows(am, dev(x))
    np.testing.assert_array_equal(am.numpy(), np.argmax(x, axis=-1))


def test_ops_run_on_the_device(rng):
    x, b = f32(rng, (6, 5)), f32(rng, (5,))
    y = nk.ops.bias_add(dev(x), dev(b))
    assert y.device == "cuda"
    assert_close(y.numpy(), x.astype(np.float64) + b, "elementwise")
    np.testing.assert_allclose(float(nk.ops.sum(dev(x))), x.astype(np.float64).sum(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(nk.ops.argmax(dev(x)).numpy()), np.argmax(x, axis=-1))
