"""UpSampling2D CUDA kernels (csrc/cuda/upsample.cu) vs the float64 NumPy loops of
tests/test_upsample.py, run on the emulator (or a GPU), both backward variants: 'naive' (atomic
scatter) and 'auto' (gather)."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

from _device import check, cu, nan_cu
from _tol import TOL
from test_upsample import SIZES, ref_upsample, ref_upsample_backward

VARIANTS = ["naive", "auto"]
# tests/test_upsample.py's shapes without the large OpenMP one, plus batch 1 with W = 1
SHAPES = [(1, 1, 1, 1), (2, 3, 5, 3), (1, 7, 4, 17), (2, 4, 3, 33), (1, 2, 3, 70), (1, 5, 1, 2)]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", SIZES + [(4, 3)], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_backward(rng, variant, interpolation, size, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    oshape = (shape[0], shape[1] * size[0], shape[2] * size[1], shape[3])
    y = nan_cu(oshape)
    ops.upsampling2d(cu(x), size, interpolation, out=y, variant=variant)
    check(y, ref_upsample(x.astype(np.float64), size, interpolation))
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_cu(shape)
    ops.upsampling2d_backward(cu(dy), shape, size, interpolation, out=dx, variant=variant)
    check(dx, ref_upsample_backward(dy.astype(np.float64), shape, size, interpolation))


def test_bilinear_known_values():
    """[0, 1] upsampled x2 with half-pixel centres -> [0, 0.25, 0.75, 1] (tf.image.resize values)."""
    y = ops.upsampling2d(cu(np.array([0.0, 1.0]).reshape(1, 1, 2, 1)), (1, 2), "bilinear")
    check(y, np.array([0, 0.25, 0.75, 1.0]).reshape(1, 1, 4, 1))
    y = ops.upsampling2d(cu(np.array([0.0, 3.0]).reshape(1, 1, 2, 1)), (1, 3), "bilinear")
    check(y, np.array([0, 0, 1, 2, 3, 3.0]).reshape(1, 1, 6, 1))


def test_bad_input(rng):
    x = cu(rng.standard_normal((1, 3, 3, 2)))
    k = backend(x)
    with pytest.raises(ValueError, match="size must be positive"):
        k.upsampling2d_forward(nan_cu((1, 3, 3, 2)), x, (0, 1), "nearest", "auto")
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear'"):
        k.upsampling2d_forward(nan_cu((1, 6, 6, 2)), x, (2, 2), "bicubic", "auto")
    with pytest.raises(ValueError, match="must be 4-d"):
        k.upsampling2d_forward(nan_cu((6, 6, 2)), cu(np.ones((3, 3, 2))), (2, 2), "nearest", "auto")
    with pytest.raises(ValueError, match="y must have shape"):
        k.upsampling2d_forward(nan_cu((1, 6, 5, 2)), x, (2, 2), "nearest", "auto")
    with pytest.raises(ValueError, match="dy must have shape"):
        k.upsampling2d_backward(nan_cu((1, 3, 3, 2)), nan_cu((1, 6, 5, 2)), (2, 2), "bilinear", "auto")
    with pytest.raises(TypeError, match="float32"):
        k.upsampling2d_forward(nan_cu((1, 6, 6, 2)), cu(np.ones((1, 3, 3, 2)), np.int64), (2, 2), "nearest", "auto")
    with pytest.raises(ValueError, match="unknown upsampling variant 'fast'.*auto, gather, naive"):
        k.upsampling2d_forward(nan_cu((1, 6, 6, 2)), x, (2, 2), "nearest", "fast")
    with pytest.raises(ValueError, match="must not share memory"):
        k.upsampling2d_forward(x, x, (1, 1), "nearest", "auto")
    with pytest.raises(ValueError, match="cuda"):  # a host tensor given to the device kernel
        k.upsampling2d_forward(nan_cu((1, 6, 6, 2)), nk.tensor(np.ones((1, 3, 3, 2), np.float32)), (2, 2),
                               "nearest", "auto")
