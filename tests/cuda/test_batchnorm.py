"""Batch normalization CUDA kernels (csrc/cuda/batchnorm.cu) vs the float64 NumPy references of
tests/test_batchnorm.py, run on the emulator (or a GPU), both variants ('naive' one thread per channel,
'auto' = rows): training / inference forward, Keras moving averages, backward (dx overwritten,
dgamma / dbeta accumulated), bad input."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

import _device
from _device import cu, nan_cu
from _tol import TOL
from test_batchnorm import _params, _x, ref_backward, ref_forward, ref_stats

VARIANTS = ["naive", "auto"]
# any rank, last axis the channel: C = 1, 3, 5, 17, 33 (> one 32-channel tile), 70; M = 1 .. 1100
# (> 256 rows: several row chunks in the rows variant's channel sums)
SHAPES = [(5,), (1, 3), (7, 3), (257, 1), (2, 5, 7, 17), (3, 33), (4, 3, 5, 70), (2, 3, 4, 1, 5), (1100, 3)]


def check(t, expected, family="reduce"):
    _device.check(t, expected, family)


def forward(x, gamma, beta, mm, mv, training, momentum=0.99, eps=1e-3, variant="auto"):
    """Device outputs (y, mean, invstd) through the binding, each NaN-filled first."""
    c = x.shape[-1]
    y, mean, invstd = nan_cu(x.shape), nan_cu((c,)), nan_cu((c,))
    backend(y).batch_norm_forward(y, mean, invstd, cu(x), gamma, beta, mm, mv, training, momentum, eps, variant)
    return y, mean, invstd


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_training_forward_and_moving_update(rng, variant, shape):
    x = _x(rng, shape)
    gamma, beta, mm0, mv0 = _params(rng, shape[-1])
    mm, mv = cu(mm0), cu(mv0)
    momentum, eps = 0.9, 1e-3
    y, mean, invstd = forward(x, cu(gamma), cu(beta), mm, mv, True, momentum, eps, variant)
    bmean, bvar = ref_stats(x.astype(np.float64))
    check(mean, bmean)
    check(invstd, 1 / np.sqrt(bvar + eps))
    check(y, ref_forward(x.astype(np.float64), gamma, beta, bmean, bvar, eps))
    check(mm, mm0 * momentum + bmean * (1 - momentum))  # Keras momentum rule, biased variance
    check(mv, mv0 * momentum + bvar * (1 - momentum))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES[:6], ids=str)
def test_inference_forward_uses_moving_stats(rng, variant, shape):
    x = _x(rng, shape)
    gamma, beta, mm0, mv0 = _params(rng, shape[-1])
    mm, mv = cu(mm0), cu(mv0)
    y, mean, invstd = forward(x, cu(gamma), cu(beta), mm, mv, False, variant=variant)
    np.testing.assert_array_equal(mm.numpy(), mm0)  # untouched
    np.testing.assert_array_equal(mv.numpy(), mv0)
    check(mean, mm0.astype(np.float64))
    check(invstd, 1 / np.sqrt(mv0.astype(np.float64) + 1e-3))
    check(y, ref_forward(x.astype(np.float64), gamma, beta, mm0, mv0, 1e-3))


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_overwrites_dx_accumulates_params(rng, variant, training, shape):
    x = _x(rng, shape)
    c = shape[-1]
    gamma, beta, mm, mv = _params(rng, c)
    _, mean, invstd = forward(x, cu(gamma), cu(beta), cu(mm), cu(mv), training)
    dy = rng.standard_normal(shape).astype(np.float32)
    dgamma0, dbeta0 = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    dgamma, dbeta, dx = cu(dgamma0), cu(dbeta0), nan_cu(shape)
    backend(dx).batch_norm_backward(dx, dgamma, dbeta, cu(dy), cu(x), cu(gamma), mean, invstd, training, variant)
    rdx, rdg, rdb = ref_backward(dy.astype(np.float64), x.astype(np.float64), gamma.astype(np.float64),
                                 mean.numpy().astype(np.float64), invstd.numpy().astype(np.float64), training)
    check(dx, rdx)
    check(dgamma, dgamma0 + rdg)  # accumulated
    check(dbeta, dbeta0 + rdb)


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_gamma_no_beta(rng, variant):
    """gamma / beta None act as 1 / 0; dgamma / dbeta None are skipped."""
    x = _x(rng, (6, 4, 9))
    ones, zeros = np.ones(9), np.zeros(9)
    y0, m0, s0 = forward(x, cu(ones), cu(zeros), cu(zeros), cu(ones), True, variant=variant)
    y1, m1, s1 = forward(x, None, None, cu(zeros), cu(ones), True, variant=variant)
    np.testing.assert_array_equal(y0.numpy(), y1.numpy())
    dy = cu(rng.standard_normal(x.shape))
    dx0, dx1 = nan_cu(x.shape), nan_cu(x.shape)
    k = backend(dy)
    k.batch_norm_backward(dx0, None, None, dy, cu(x), cu(ones), m0, s0, True, variant)
    k.batch_norm_backward(dx1, None, None, dy, cu(x), None, m1, s1, True, variant)
    np.testing.assert_array_equal(dx0.numpy(), dx1.numpy())


@pytest.mark.parametrize("variant", VARIANTS)
def test_large_offset_keeps_accuracy(variant):
    """Channels centred at 1e3 with unit spread: E[x^2] - E[x]^2 in float32 would lose the variance;
    the centred sums must not, and y is normalised by the exact (not the float32) batch mean."""
    x = (1000.0 + np.random.default_rng(3).standard_normal((600, 3))).astype(np.float32)
    y, _, invstd = forward(x, None, None, cu(np.zeros(3)), cu(np.ones(3)), True, variant=variant)
    bmean, bvar = ref_stats(x.astype(np.float64))
    check(invstd, 1 / np.sqrt(bvar + 1e-3))
    check(y, ref_forward(x.astype(np.float64), 1.0, 0.0, bmean, bvar, 1e-3))


def test_ops_layer_runs_on_the_device(rng):
    """neurokern.ops with device tensors: outputs allocated on 'cuda', moving stats updated in place."""
    x = _x(rng, (8, 3))
    mm, mv = cu(np.zeros(3)), cu(np.ones(3))
    y, mean, invstd = ops.batch_norm_forward(cu(x), None, None, mm, mv, True)  # Keras momentum 0.99
    assert y.device == mean.device == invstd.device == "cuda"
    bmean, bvar = ref_stats(x.astype(np.float64))
    check(mm, 0.01 * bmean)
    check(mv, 0.99 + 0.01 * bvar)


def test_bad_input(rng):
    x = cu(_x(rng, (4, 3)))
    g, b, mm, mv = (cu(a) for a in _params(rng, 3))
    k = backend(x)

    def fwd(x=x, g=g, b=b, mm=mm, mv=mv, training=True, momentum=0.99, eps=1e-3, variant="auto", y=None):
        c = x.shape[-1] if x.shape else 1
        y = nan_cu(x.shape) if y is None else y
        k.batch_norm_forward(y, nan_cu((c,)), nan_cu((c,)), x, g, b, mm, mv, training, momentum, eps, variant)

    for eps in [float("nan"), -1e-3, float("inf")]:
        with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
            fwd(eps=eps)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        fwd(momentum=1.5)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        fwd(g=cu(np.ones(2)))
    with pytest.raises(ValueError, match=r"moving_var must have shape \(3,\)"):
        fwd(mv=cu(np.ones(4)))
    with pytest.raises(TypeError, match="float32"):
        fwd(x=cu(np.ones((4, 3)), np.int32))
    with pytest.raises(ValueError, match="at least one row"):
        fwd(x=cu(np.zeros((0, 3))))
    with pytest.raises(ValueError, match="must not share memory"):
        fwd(mv=mm)
    with pytest.raises(ValueError, match="unknown batch_norm variant"):
        fwd(variant="fast")
    with pytest.raises(ValueError, match="cuda"):  # a host tensor given to the device kernel
        fwd(g=nk.tensor(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="dy and x must have the same shape"):
        k.batch_norm_backward(nan_cu((4, 3)), None, None, nan_cu((3, 3)), x, g, cu(np.zeros(3)), cu(np.ones(3)),
                              True, "auto")
    with pytest.raises(ValueError, match=r"invstd must have shape \(3,\)"):
        k.batch_norm_backward(nan_cu((4, 3)), None, None, nan_cu((4, 3)), x, g, cu(np.zeros(3)), cu(np.ones(2)),
                              True, "auto")
