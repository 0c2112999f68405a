"""Batch normalization kernels (csrc/cpu/batchnorm*.cpp) vs plain float64 NumPy, on every ISA and both
variants: training / inference forward, Keras moving-average update, backward (dx overwritten,
dgamma / dbeta accumulated), finite differences of the reference gradient, PyTorch cross-check."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

VARIANTS = ["naive", "auto"]
# any rank; the last axis is the channel: C = 1, 3, 5, 17, 33, 70; M = 1 .. 16 * 1024
SHAPES = [(5,), (1, 3), (7, 3), (257, 1), (2, 5, 7, 17), (3, 33), (4, 3, 5, 70), (2, 3, 4, 1, 5), (16, 32, 32, 3)]


def _params(rng, c):
    gamma = rng.uniform(0.5, 1.5, c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    mm = rng.standard_normal(c).astype(np.float32)
    mv = rng.uniform(0.5, 2.0, c).astype(np.float32)
    return gamma, beta, mm, mv


def _x(rng, shape):
    c = shape[-1]
    # per-channel offsets and scales, so a wrong axis or a wrong centring shows
    return (rng.standard_normal(shape) * rng.uniform(0.5, 3, c) + rng.uniform(-4, 4, c)).astype(np.float32)


def ref_stats(x):
    axes = tuple(range(x.ndim - 1))
    return x.mean(axis=axes), x.var(axis=axes)  # biased variance, as Keras


def ref_forward(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def ref_backward(dy, x, gamma, mean, invstd, training):
    """(dx, dgamma, dbeta) with the standard formula written out."""
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    xhat = (x - mean) * invstd
    sdy, sdyxh = dy.sum(axis=axes), (dy * xhat).sum(axis=axes)
    if training:
        dx = gamma * invstd / m * (m * dy - sdy - xhat * sdyxh)
    else:
        dx = gamma * invstd * dy
    return dx, sdyxh, sdy


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_training_forward_and_moving_update(isa, rng, variant, shape):
    x = _x(rng, shape)
    gamma, beta, mm0, mv0 = _params(rng, shape[-1])
    mm, mv = nk.tensor(mm0.copy()), nk.tensor(mv0.copy())
    y = nan_tensor(shape)
    momentum, eps = 0.9, 1e-3
    _, mean, invstd = ops.batch_norm_forward(nk.tensor(x), gamma, beta, mm, mv, True, momentum, eps, out=y,
                                             variant=variant)
    x64 = x.astype(np.float64)
    bmean, bvar = ref_stats(x64)
    assert_close(mean.numpy(), bmean, "reduce")
    assert_close(invstd.numpy(), 1 / np.sqrt(bvar + eps), "reduce")
    assert_close(y.numpy(), ref_forward(x64, gamma, beta, bmean, bvar, eps), "reduce")
    # Keras: moving = moving * momentum + batch * (1 - momentum), batch variance biased
    assert_close(mm.numpy(), mm0 * momentum + bmean * (1 - momentum), "reduce")
    assert_close(mv.numpy(), mv0 * momentum + bvar * (1 - momentum), "reduce")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES[:6], ids=str)
def test_inference_forward_uses_moving_stats(isa, rng, variant, shape):
    x = _x(rng, shape)
    gamma, beta, mm0, mv0 = _params(rng, shape[-1])
    mm, mv = nk.tensor(mm0.copy()), nk.tensor(mv0.copy())
    y = nan_tensor(shape)
    _, mean, invstd = ops.batch_norm_forward(nk.tensor(x), gamma, beta, mm, mv, False, out=y, variant=variant)
    np.testing.assert_array_equal(mm.numpy(), mm0)  # untouched
    np.testing.assert_array_equal(mv.numpy(), mv0)
    assert_close(mean.numpy(), mm0.astype(np.float64), "reduce")
    assert_close(invstd.numpy(), 1 / np.sqrt(mv0.astype(np.float64) + 1e-3), "reduce")
    assert_close(y.numpy(), ref_forward(x.astype(np.float64), gamma, beta, mm0, mv0, 1e-3), "reduce")


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_overwrites_dx_accumulates_params(isa, rng, variant, training, shape):
    x = _x(rng, shape)
    c = shape[-1]
    gamma, beta, mm, mv = _params(rng, c)
    _, mean, invstd = ops.batch_norm_forward(x, gamma, beta, mm, mv, training)
    dy = rng.standard_normal(shape).astype(np.float32)
    dgamma0, dbeta0 = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    dgamma, dbeta = nk.tensor(dgamma0.copy()), nk.tensor(dbeta0.copy())
    dx = nan_tensor(shape)
    ops.batch_norm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, training=training, variant=variant)
    rdx, rdg, rdb = ref_backward(dy.astype(np.float64), x.astype(np.float64), gamma.astype(np.float64),
                                 mean.astype(np.float64), invstd.astype(np.float64), training)
    assert_close(dx.numpy(), rdx, "reduce")
    assert_close(dgamma.numpy(), dgamma0 + rdg, "reduce")  # accumulated
    assert_close(dbeta.numpy(), dbeta0 + rdb, "reduce")


def test_no_gamma_no_beta(isa, rng):
    """gamma / beta None act as 1 / 0 (scale=False, center=False); dgamma / dbeta None are skipped."""
    x = _x(rng, (6, 4, 9))
    ones, zeros = np.ones(9, np.float32), np.zeros(9, np.float32)
    for variant in VARIANTS:
        y0, m0, s0 = ops.batch_norm_forward(x, ones, zeros, np.zeros(9, np.float32), np.ones(9, np.float32), True,
                                            variant=variant)
        y1, m1, s1 = ops.batch_norm_forward(x, None, None, np.zeros(9, np.float32), np.ones(9, np.float32), True,
                                            variant=variant)
        np.testing.assert_array_equal(y0, y1)
        dy = rng.standard_normal(x.shape).astype(np.float32)
        dx0 = ops.batch_norm_backward(None, None, None, dy, x, ones, m0, s0, variant=variant)
        dx1 = ops.batch_norm_backward(None, None, None, dy, x, None, m1, s1, variant=variant)
        np.testing.assert_array_equal(dx0, dx1)


def test_reference_gradients_by_finite_differences(rng):
    x = rng.standard_normal((4, 3, 5))
    gamma, beta = rng.uniform(0.5, 1.5, 5), rng.standard_normal(5)
    dy = rng.standard_normal(x.shape)
    eps = 1e-3

    def f(xv, g=gamma, b=beta):
        mean, var = ref_stats(xv)
        return ref_forward(xv, g, b, mean, var, eps)

    mean, var = ref_stats(x)
    invstd = 1 / np.sqrt(var + eps)
    dx, dg, db = ref_backward(dy, x, gamma, mean, invstd, True)
    assert_close(dx, numeric_grad(f, x, dy=dy), "grad_fd", dtype=np.float64)
    assert_close(dg, numeric_grad(lambda g: f(x, g=g), gamma, dy=dy), "grad_fd", dtype=np.float64)
    assert_close(db, numeric_grad(lambda b: f(x, b=b), beta, dy=dy), "grad_fd", dtype=np.float64)
    # inference: statistics are constants
    mm, mv = rng.standard_normal(5), rng.uniform(0.5, 2, 5)
    dx, _, _ = ref_backward(dy, x, gamma, mm, 1 / np.sqrt(mv + eps), False)
    num = numeric_grad(lambda xv: ref_forward(xv, gamma, beta, mm, mv, eps), x, dy=dy)
    assert_close(dx, num, "grad_fd", dtype=np.float64)


def test_large_offset_keeps_accuracy(isa):
    """Channels centred at 1e3 with unit spread: a one-pass E[x^2] - E[x]^2 in float32 would lose the
    variance entirely; the two-pass centred sums must not."""
    rng = np.random.default_rng(3)
    x = (1000.0 + rng.standard_normal((64, 40, 40, 3))).astype(np.float32)
    y, mean, invstd = ops.batch_norm_forward(x, None, None, np.zeros(3, np.float32), np.ones(3, np.float32), True)
    bmean, bvar = ref_stats(x.astype(np.float64))
    assert_close(invstd, 1 / np.sqrt(bvar + 1e-3), "reduce")
    # the float32 mean is ~3e-5 off the batch mean; y must still be normalised by the exact one
    assert_close(y, ref_forward(x.astype(np.float64), 1.0, 0.0, bmean, bvar, 1e-3), "reduce")


def test_numpy_moving_stats_updated_in_place(rng):
    x = _x(rng, (8, 3))
    mm, mv = np.zeros(3, np.float32), np.ones(3, np.float32)
    ops.batch_norm_forward(x, None, None, mm, mv, True)  # Keras defaults: momentum 0.99
    bmean, bvar = ref_stats(x.astype(np.float64))
    assert_close(mm, 0.01 * bmean, "reduce")
    assert_close(mv, 0.99 + 0.01 * bvar, "reduce")


def test_numpy_dx_overwritten_in_place(rng):
    x = _x(rng, (5, 4))
    _, mean, invstd = ops.batch_norm_forward(x, None, None, np.zeros(4, np.float32), np.ones(4, np.float32), True)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    ops.batch_norm_backward(dx, None, None, dy, x, None, mean, invstd)
    rdx, _, _ = ref_backward(dy.astype(np.float64), x.astype(np.float64), 1.0, mean.astype(np.float64),
                             invstd.astype(np.float64), True)
    assert_close(dx, rdx, "reduce")


def test_torch_cross_check(rng):
    torch = pytest.importorskip("torch")
    x = _x(rng, (4, 6, 5, 7))
    gamma, beta, mm0, mv0 = _params(rng, 7)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float64, requires_grad=True)
    gt = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    rm, rv = torch.tensor(mm0, dtype=torch.float64), torch.tensor(mv0, dtype=torch.float64)
    # torch momentum is the weight of the NEW batch statistic: Keras momentum 0.99 = torch 0.01
    yt = torch.nn.functional.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=0.01, eps=1e-3)
    dy = rng.standard_normal(yt.shape)
    gx, gg, gb = torch.autograd.grad(yt, (xt, gt, bt), torch.tensor(dy))
    mm, mv = nk.tensor(mm0.copy()), nk.tensor(mv0.copy())
    y, mean, invstd = ops.batch_norm_forward(x, gamma, beta, mm, mv, True, 0.99, 1e-3)
    dgamma, dbeta = nk.zeros((7,)), nk.zeros((7,))
    dx = ops.batch_norm_backward(None, dgamma, dbeta, np.ascontiguousarray(dy.transpose(0, 2, 3, 1), np.float32),
                                 x, gamma, mean, invstd)
    assert_close(y, yt.detach().numpy().transpose(0, 2, 3, 1), "reduce")
    assert_close(dx, gx.numpy().transpose(0, 2, 3, 1), "reduce")
    assert_close(dgamma.numpy(), gg.numpy(), "reduce")
    assert_close(dbeta.numpy(), gb.numpy(), "reduce")
    assert_close(mm.numpy(), rm.numpy(), "reduce")
    # torch's running_var uses the UNBIASED batch variance; Keras (and neurokern) the biased one
    m = x.size // 7
    bvar_biased = (rv.numpy() - 0.99 * mv0) / 0.01 * (m - 1) / m
    assert_close(mv.numpy(), 0.99 * mv0 + 0.01 * bvar_biased, "reduce")


def test_bad_input(rng):
    x = _x(rng, (4, 3))
    g, b, mm, mv = _params(rng, 3)
    fwd = ops.batch_norm_forward
    for eps in [float("nan"), -1e-3, float("inf")]:
        with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
            fwd(x, g, b, mm, mv, True, 0.99, eps)
    for mom in [-0.1, 1.5, float("nan")]:
        with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
            fwd(x, g, b, mm, mv, True, mom)
    with pytest.raises(TypeError, match="momentum must be a number"):
        fwd(x, g, b, mm, mv, True, "0.9")
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        fwd(x, g[:2], b, mm, mv, True)
    with pytest.raises(ValueError, match=r"moving_var must have shape \(3,\)"):
        fwd(x, g, b, mm, np.ones(4, np.float32), True)
    with pytest.raises(TypeError, match="moving_mean is updated in place"):
        fwd(x, g, b, mm.astype(np.float64), mv, True)
    with pytest.raises(TypeError, match="float32"):
        fwd(nk.tensor(np.ones((4, 3), np.int32)), g, b, mm, mv, True)
    with pytest.raises(ValueError, match="channel"):
        fwd(np.float32(1.0), None, None, mm[:1], mv[:1], True)
    with pytest.raises(ValueError, match="at least one row"):
        fwd(np.zeros((0, 3), np.float32), g, b, mm, mv, True)
    with pytest.raises(ValueError, match="must not share memory"):
        fwd(x, g, b, mm, mm, True)
    y, mean, invstd = fwd(x, g, b, mm, mv, True)
    with pytest.raises(ValueError, match="dy and x must have the same shape"):
        ops.batch_norm_backward(None, None, None, x[:3], x, g, mean, invstd)
    with pytest.raises(ValueError, match=r"invstd must have shape \(3,\)"):
        ops.batch_norm_backward(None, None, None, x, x, g, mean, invstd[:2])
    with pytest.raises(TypeError, match="dgamma is updated in place"):
        ops.batch_norm_backward(None, [0.0, 0.0, 0.0], None, x, x, g, mean, invstd)
    with pytest.raises(ValueError, match="unknown batch_norm variant"):
        fwd(x, g, b, mm, mv, True, variant="fast")
