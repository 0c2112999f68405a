"""ZeroPadding2D kernels (csrc/cpu/pad.cpp) vs NumPy: zero border forward, crop backward."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

CASES = [
    ((1, 1, 1, 1), ((0, 0), (0, 0))),
    ((2, 3, 5, 3), ((1, 1), (1, 1))),
    ((1, 7, 4, 17), ((2, 0), (0, 3))),
    ((3, 4, 6, 33), ((0, 1), (2, 2))),
    ((2, 5, 5, 70), ((3, 2), (1, 0))),
    ((2, 40, 37, 16), ((1, 2), (2, 1))),  # large enough for the OpenMP path
]


def ref_pad(x, p):
    return np.pad(x, ((0, 0), p[0], p[1], (0, 0)))


@pytest.mark.parametrize("shape,padding", CASES, ids=str)
def test_forward_backward(isa, rng, shape, padding):
    x = rng.standard_normal(shape).astype(np.float32)
    (t, b), (le, r) = padding
    oshape = (shape[0], shape[1] + t + b, shape[2] + le + r, shape[3])
    y = nan_tensor(oshape)
    ops.pad2d(nk.tensor(x), padding, out=y)
    assert_close(y.numpy(), ref_pad(x.astype(np.float64), padding), "elementwise")
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_tensor(shape)
    ops.pad2d_backward(nk.tensor(dy), padding, out=dx)
    assert_close(dx.numpy(), dy[:, t:t + shape[1], le:le + shape[2], :].astype(np.float64), "elementwise")


def test_keras_padding_forms(rng):
    x = rng.standard_normal((1, 2, 3, 2)).astype(np.float32)
    assert ops.pad2d(x, 1).shape == (1, 4, 5, 2)
    assert ops.pad2d(x, (1, 2)).shape == (1, 4, 7, 2)  # (rows, cols): symmetric
    assert_close(ops.pad2d(x, (1, 2)), ref_pad(x.astype(np.float64), ((1, 1), (2, 2))), "elementwise")
    assert ops.normalize_padding2d(((1, 2), (3, 4))) == ((1, 2), (3, 4))


def test_backward_is_gradient(rng):
    x = rng.standard_normal((1, 2, 3, 2))
    padding = ((1, 0), (2, 1))
    dy = rng.standard_normal((1, 3, 6, 2))
    num = numeric_grad(lambda v: ref_pad(v, padding), x, dy=dy)
    dx = ops.pad2d_backward(dy.astype(np.float32), padding)
    assert_close(dx, num, "elementwise")


def test_bad_input(rng):
    x = rng.standard_normal((1, 3, 3, 2)).astype(np.float32)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        ops.pad2d(x, ((1, -1), (0, 0)))
    with pytest.raises(TypeError, match="padding must be an int, a tuple of 2 ints"):
        ops.pad2d(x, (1, 2, 3))
    with pytest.raises(TypeError, match="padding must be an int"):
        ops.pad2d(x, 1.5)
    with pytest.raises(ValueError, match="must be 4-d"):
        ops.pad2d(x[0], 1)
    with pytest.raises(ValueError, match="larger than dy"):
        ops.pad2d_backward(x, ((2, 2), (0, 0)))
    with pytest.raises(TypeError, match="float32"):
        ops.pad2d(nk.tensor(np.ones((1, 2, 2, 1), np.int32)), 1)
    with pytest.raises(ValueError, match="dy must have shape"):
        nk._core.pad2d_backward(nk.tensor(np.ones((1, 1, 1, 2), np.float32)), nk.tensor(x), ((1, 0), (1, 0)))
