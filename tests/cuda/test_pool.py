"""Pooling CUDA kernels (csrc/cuda/pool.cu) vs the float64 NumPy loops of tests/test_pool.py, run on
the emulator (or a GPU), both backward variants: 'naive' (atomic scatter) and 'auto' (gather)."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

from _device import check, cu, nan_cu
from _tol import TOL
from test_pool import (CONFIGS, _distinct, _out_shape, ref_avg_pool, ref_avg_pool_backward, ref_max_pool,
                       ref_max_pool_backward)

VARIANTS = ["naive", "auto"]
# tests/test_pool.py's configurations without the two large OpenMP ones (the emulator is slow),
# plus batch 1 with a 'same' window larger than the input and a prime channel count
SMALL = [c for c in CONFIGS if np.prod(c[0]) < 5000] + [((1, 2, 3, 7), (3, 5), (1, 2), "same")]
IDS = [f"{s}-p{p}-s{st}-{pad}" for s, p, st, pad in SMALL]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape,pool,strides,padding", SMALL, ids=IDS)
def test_max_pool_forward_backward(rng, variant, shape, pool, strides, padding):
    x = _distinct(rng, shape)
    oshape = _out_shape(shape, pool, strides, padding)
    assert backend(cu(x)).pool2d_output_shape(shape, pool, strides or pool, padding) == oshape
    y = nan_cu(oshape)
    ops.max_pool2d(cu(x), pool, strides, padding, out=y, variant=variant)
    check(y, ref_max_pool(x.astype(np.float64), pool, strides, padding))
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_cu(shape)
    ops.max_pool2d_backward(cu(dy), cu(x), pool, strides, padding, out=dx, variant=variant)
    check(dx, ref_max_pool_backward(dy, x, pool, strides, padding))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape,pool,strides,padding", SMALL, ids=IDS)
def test_avg_pool_forward_backward(rng, variant, shape, pool, strides, padding):
    x = rng.standard_normal(shape).astype(np.float32)
    oshape = _out_shape(shape, pool, strides, padding)
    y = nan_cu(oshape)
    ops.avg_pool2d(cu(x), pool, strides, padding, out=y, variant=variant)
    check(y, ref_avg_pool(x.astype(np.float64), pool, strides, padding))
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_cu(shape)
    ops.avg_pool2d_backward(cu(dy), shape, pool, strides, padding, out=dx, variant=variant)
    check(dx, ref_avg_pool_backward(dy, shape, pool, strides, padding))


@pytest.mark.parametrize("variant", VARIANTS)
def test_max_pool_ties_go_to_first_maximum(variant):
    """Constant input: every position ties; each window's gradient lands on its first in-bounds
    element and overlapping windows (stride 1 < pool 2) add up there (the atomics / gather sums)."""
    x = np.ones((1, 4, 5, 3), np.float32)
    dy = np.arange(1, 1 + 3 * 4 * 3, dtype=np.float32).reshape(1, 3, 4, 3)
    dx = ops.max_pool2d_backward(cu(dy), cu(x), (2, 2), (1, 1), "valid", variant=variant)
    expected = np.zeros(x.shape)
    expected[:, :3, :4, :] = dy
    check(dx, expected)
    dx = ops.max_pool2d_backward(cu(np.ones((1, 2, 3, 3))), cu(x), 3, 2, "same", variant=variant)
    expected = np.zeros(x.shape)
    for oh in range(2):
        for ow in range(3):
            expected[0, 2 * oh, max(2 * ow - 1, 0), :] += 1
    check(dx, expected)


def test_max_pool_padding_never_wins():
    x = -np.arange(1, 1 + 2 * 3 * 3, dtype=np.float32).reshape(1, 3, 3, 2) * 100  # all negative
    y = ops.max_pool2d(cu(x), 2, 2, "same")
    assert np.all(y.numpy() < 0)
    check(y, ref_max_pool(x.astype(np.float64), (2, 2), None, "same"))


def test_naive_and_gather_backward_agree_on_heavy_overlap(rng):
    """3x3 windows at stride 1: each dx element receives up to 9 contributions (atomics vs gather)."""
    x = _distinct(rng, (2, 6, 7, 5))
    dy = rng.standard_normal((2, 6, 7, 5)).astype(np.float32)
    ref = ref_max_pool_backward(dy, x, (3, 3), (1, 1), "same")
    for variant in VARIANTS:
        check(ops.max_pool2d_backward(cu(dy), cu(x), 3, 1, "same", variant=variant), ref)
    ref = ref_avg_pool_backward(dy, x.shape, (3, 3), (1, 1), "same")
    for variant in VARIANTS:
        check(ops.avg_pool2d_backward(cu(dy), x.shape, 3, 1, "same", variant=variant), ref)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 5, 7, 3), (3, 9, 4, 70), (1, 13, 11, 17)])
def test_global_avg_pool(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    y = nan_cu((shape[0], shape[3]))
    ops.global_avg_pool2d(cu(x), out=y)
    check(y, x.astype(np.float64).mean(axis=(1, 2)), "reduce")
    dy = rng.standard_normal((shape[0], shape[3])).astype(np.float32)
    dx = nan_cu(shape)
    ops.global_avg_pool2d_backward(cu(dy), shape, out=dx)
    check(dx, np.broadcast_to(dy[:, None, None, :] / (shape[1] * shape[2]), shape).astype(np.float64))


def test_global_avg_pool_long_sum_accuracy():
    """20 000 positions of 1 + small noise: the double accumulator keeps float32 accuracy."""
    x = (1.0 + 1e-3 * np.random.default_rng(5).standard_normal((1, 100, 200, 2))).astype(np.float32)
    check(ops.global_avg_pool2d(cu(x)), x.astype(np.float64).mean(axis=(1, 2)), "reduce")


def test_bad_input(rng):
    x = cu(rng.standard_normal((1, 4, 4, 2)))
    k = backend(x)
    with pytest.raises(ValueError, match="no larger than the input"):
        ops.max_pool2d(x, (5, 2), padding="valid")
    with pytest.raises(ValueError, match="pool_size must be positive"):
        k.max_pool2d_forward(nan_cu((1, 2, 2, 2)), x, (0, 2), (2, 2), "valid", "auto")
    with pytest.raises(ValueError, match="strides must be positive"):
        k.avg_pool2d_forward(nan_cu((1, 2, 2, 2)), x, (2, 2), (2, -1), "valid", "auto")
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        k.max_pool2d_forward(nan_cu((1, 2, 2, 2)), x, (2, 2), (2, 2), "full", "auto")
    with pytest.raises(ValueError, match="must be 4-d"):
        k.max_pool2d_forward(nan_cu((1, 2, 2)), cu(np.ones((4, 4, 2))), (2, 2), (2, 2), "valid", "auto")
    with pytest.raises(ValueError, match="y must have shape"):
        k.max_pool2d_forward(nan_cu((1, 3, 2, 2)), x, (2, 2), (2, 2), "valid", "auto")
    with pytest.raises(ValueError, match="dy must have shape"):
        k.max_pool2d_backward(nan_cu((1, 4, 4, 2)), nan_cu((1, 3, 2, 2)), x, (2, 2), (2, 2), "valid", "auto")
    with pytest.raises(ValueError, match="dy must have shape"):
        k.global_avg_pool2d_backward(nan_cu((1, 4, 4, 2)), nan_cu((1, 3)), "auto")
    with pytest.raises(TypeError, match="float32"):
        k.max_pool2d_forward(nan_cu((1, 2, 2, 2)), cu(np.ones((1, 4, 4, 2)), np.int32), (2, 2), (2, 2),
                             "valid", "auto")
    with pytest.raises(ValueError, match="unknown pooling variant 'nhwc'.*auto, gather, naive"):
        k.max_pool2d_backward(nan_cu((1, 4, 4, 2)), nan_cu((1, 2, 2, 2)), x, (2, 2), (2, 2), "valid", "nhwc")
    with pytest.raises(ValueError, match="must not share memory"):
        k.max_pool2d_backward(x, nan_cu((1, 2, 2, 2)), x, (2, 2), (2, 2), "valid", "auto")
    with pytest.raises(ValueError, match="cuda"):  # a host tensor given to the device kernel
        k.avg_pool2d_forward(nan_cu((1, 2, 2, 2)), nk.tensor(np.ones((1, 4, 4, 2), np.float32)), (2, 2),
                             (2, 2), "valid", "auto")
