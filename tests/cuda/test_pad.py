"""ZeroPadding2D CUDA kernels (csrc/cuda/pad.cu) vs NumPy, run on the emulator (or a GPU): zero border
forward, crop backward, into NaN-filled device outputs; bad input raises before any kernel."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

from _device import check, cu, nan_cu
from _tol import TOL
from test_pad import CASES, ref_pad


# CASES from tests/test_pad.py plus a batch-1 prime-sized one
@pytest.mark.parametrize("shape,padding", CASES + [((1, 7, 1, 33), ((0, 5), (3, 0)))], ids=str)
def test_forward_backward(rng, shape, padding):
    x = rng.standard_normal(shape).astype(np.float32)
    (t, b), (le, r) = padding
    oshape = (shape[0], shape[1] + t + b, shape[2] + le + r, shape[3])
    y = nan_cu(oshape)
    assert ops.pad2d(cu(x), padding, out=y) is y
    check(y, ref_pad(x.astype(np.float64), padding))
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_cu(shape)
    ops.pad2d_backward(cu(dy), padding, out=dx)
    check(dx, dy[:, t:t + shape[1], le:le + shape[2], :].astype(np.float64))


def test_default_output_lives_on_the_device(rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    y = ops.pad2d(cu(x), 1)
    assert isinstance(y, nk.Tensor) and y.device == "cuda"
    check(y, ref_pad(x.astype(np.float64), ((1, 1), (1, 1))))


def test_bad_input(rng):
    x = cu(rng.standard_normal((1, 3, 3, 2)))
    k = backend(x)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        k.pad2d_forward(nan_cu((1, 3, 5, 2)), x, ((1, -1), (1, 1)))
    with pytest.raises(ValueError, match="must be 4-d"):
        k.pad2d_forward(nan_cu((1, 5, 5)), cu(np.ones((1, 3, 3))), ((1, 1), (1, 1)))
    with pytest.raises(ValueError, match="y must have shape"):
        k.pad2d_forward(nan_cu((1, 5, 4, 2)), x, ((1, 1), (1, 1)))
    with pytest.raises(ValueError, match="dy must have shape"):
        k.pad2d_backward(nan_cu((1, 3, 3, 2)), nan_cu((1, 4, 4, 2)), ((1, 1), (1, 1)))
    with pytest.raises(TypeError, match="float32"):
        k.pad2d_forward(nan_cu((1, 5, 5, 2)), cu(np.ones((1, 3, 3, 2)), np.int32), ((1, 1), (1, 1)))
    with pytest.raises(ValueError, match="cuda"):  # a host tensor given to the device kernel
        k.pad2d_forward(nan_cu((1, 5, 5, 2)), nk.tensor(np.ones((1, 3, 3, 2), np.float32)), ((1, 1), (1, 1)))
    with pytest.raises(ValueError, match="must not share memory"):
        k.pad2d_forward(x, x, ((0, 0), (0, 0)))
