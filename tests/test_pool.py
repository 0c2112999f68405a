"""Pooling kernels (csrc/cpu/pool*.cpp) vs plain float64 NumPy loops, on every ISA and both variants
(naive reference, nhwc vectorised), plus finite-difference checks of the reference gradients and a
PyTorch cross-check."""
import math

import numpy as np
import pytest

import neurokern as nk
from neurokern import ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

VARIANTS = ["naive", "auto"]
# (input shape, pool, strides, padding): batch 1, odd sizes, C = 1, 3, 17, 33 and > 64 (two channel
# blocks), pools 2 / 3 / (2, 3), strides 1 / 2 / 3 and mixed, both paddings, strides < pool (overlap)
CONFIGS = [
    ((1, 7, 9, 1), (2, 2), None, "valid"),
    ((2, 6, 5, 3), (3, 3), (1, 1), "same"),
    ((2, 7, 7, 17), (3, 3), (2, 2), "same"),
    ((1, 9, 8, 33), (2, 3), (3, 1), "valid"),
    ((3, 5, 11, 3), (2, 2), (3, 3), "same"),
    ((1, 4, 5, 67), (3, 2), (2, 3), "same"),
    ((2, 8, 8, 6), (2, 2), (1, 2), "valid"),
    ((1, 1, 1, 3), (2, 2), None, "same"),
    ((2, 3, 3, 4), (3, 3), (1, 1), "valid"),
    # large enough for the OpenMP paths (disjoint-window rows, overlapping per-image tasks)
    ((4, 30, 29, 20), (2, 2), None, "valid"),
    ((3, 17, 20, 20), (3, 3), (1, 1), "same"),
]
IDS = [f"{s}-p{p}-s{st}-{pad}" for s, p, st, pad in CONFIGS]


def _axis(n, k, s, padding):
    """(out, pad_before) by the Keras/TF rule."""
    if padding == "valid":
        return (n - k) // s + 1, 0
    out = -(-n // s)
    return out, max((out - 1) * s + k - n, 0) // 2


def _windows(shape, pool, strides, padding):
    """Yields (oh, ow, hb, he, wb, we): each output position and the in-bounds rows/cols of its window."""
    _, h, w, _ = shape
    strides = strides or pool
    oh_n, pt = _axis(h, pool[0], strides[0], padding)
    ow_n, pl = _axis(w, pool[1], strides[1], padding)
    for oh in range(oh_n):
        for ow in range(ow_n):
            h0, w0 = oh * strides[0] - pt, ow * strides[1] - pl
            yield oh, ow, max(h0, 0), min(h0 + pool[0], h), max(w0, 0), min(w0 + pool[1], w)


def _out_shape(shape, pool, strides, padding):
    strides = strides or pool
    return (shape[0], _axis(shape[1], pool[0], strides[0], padding)[0],
            _axis(shape[2], pool[1], strides[1], padding)[0], shape[3])


def ref_max_pool(x, pool, strides, padding):
    y = np.empty(_out_shape(x.shape, pool, strides, padding))
    for oh, ow, hb, he, wb, we in _windows(x.shape, pool, strides, padding):
        y[:, oh, ow, :] = x[:, hb:he, wb:we, :].max(axis=(1, 2))
    return y


def ref_max_pool_backward(dy, x, pool, strides, padding):
    dx = np.zeros(x.shape)
    for oh, ow, hb, he, wb, we in _windows(x.shape, pool, strides, padding):
        win = x[:, hb:he, wb:we, :]
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                i = np.argmax(win[n, :, :, c])  # the first maximum in row-major order
                dx[n, hb + i // (we - wb), wb + i % (we - wb), c] += dy[n, oh, ow, c]
    return dx


def ref_avg_pool(x, pool, strides, padding):
    y = np.empty(_out_shape(x.shape, pool, strides, padding))
    for oh, ow, hb, he, wb, we in _windows(x.shape, pool, strides, padding):
        y[:, oh, ow, :] = x[:, hb:he, wb:we, :].mean(axis=(1, 2))  # in-bounds elements only
    return y


def ref_avg_pool_backward(dy, shape, pool, strides, padding):
    dx = np.zeros(shape)
    for oh, ow, hb, he, wb, we in _windows(shape, pool, strides, padding):
        dx[:, hb:he, wb:we, :] += dy[:, oh, ow, None, None, :] / ((he - hb) * (we - wb))
    return dx


def _distinct(rng, shape):
    """Values with no ties, spaced 0.01 apart, so a max pool's argmax is unambiguous even after
    finite-difference steps."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.01 - n * 0.005).astype(np.float32)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape,pool,strides,padding", CONFIGS, ids=IDS)
def test_max_pool_forward_backward(isa, rng, variant, shape, pool, strides, padding):
    x = _distinct(rng, shape)
    oshape = _out_shape(shape, pool, strides, padding)
    assert ops.pool2d_output_shape(shape, pool, strides, padding) == oshape
    y = nan_tensor(oshape)
    ops.max_pool2d(nk.tensor(x), pool, strides, padding, out=y, variant=variant)
    assert_close(y.numpy(), ref_max_pool(x.astype(np.float64), pool, strides, padding), "elementwise")
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_tensor(shape)
    ops.max_pool2d_backward(nk.tensor(dy), nk.tensor(x), pool, strides, padding, out=dx, variant=variant)
    assert_close(dx.numpy(), ref_max_pool_backward(dy, x, pool, strides, padding), "elementwise")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape,pool,strides,padding", CONFIGS, ids=IDS)
def test_avg_pool_forward_backward(isa, rng, variant, shape, pool, strides, padding):
    x = rng.standard_normal(shape).astype(np.float32)
    oshape = _out_shape(shape, pool, strides, padding)
    y = nan_tensor(oshape)
    ops.avg_pool2d(nk.tensor(x), pool, strides, padding, out=y, variant=variant)
    assert_close(y.numpy(), ref_avg_pool(x.astype(np.float64), pool, strides, padding), "elementwise")
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_tensor(shape)
    ops.avg_pool2d_backward(nk.tensor(dy), shape, pool, strides, padding, out=dx, variant=variant)
    assert_close(dx.numpy(), ref_avg_pool_backward(dy, shape, pool, strides, padding), "elementwise")


def test_max_pool_ties_go_to_first_maximum(isa):
    """Constant input: every position ties. Each window's gradient lands on its top-left in-bounds
    element, and overlapping windows (stride 1 < pool 2) sum there."""
    x = np.ones((1, 4, 5, 20), np.float32)
    dy = np.arange(1, 1 + 3 * 4 * 20, dtype=np.float32).reshape(1, 3, 4, 20)
    for variant in VARIANTS:
        dx = ops.max_pool2d_backward(dy, x, (2, 2), (1, 1), "valid", variant=variant)
        expected = np.zeros(x.shape)
        expected[:, :3, :4, :] = dy
        assert_close(dx, expected, "elementwise")
        # 'same' 3x3 stride 2: 4 rows need 1 padding row (below: windows start at rows 0, 2), 5 columns
        # need 2 (one each side: windows start at -1, 1, 3, in-bounds first column 0, 1, 3)
        dx = ops.max_pool2d_backward(np.ones((1, 2, 3, 20), np.float32), x, 3, 2, "same", variant=variant)
        expected = np.zeros(x.shape)
        for oh in range(2):
            for ow in range(3):
                expected[0, 2 * oh, max(2 * ow - 1, 0), :] += 1
        assert_close(dx, expected, "elementwise")


def test_max_pool_padding_never_wins(isa):
    x = -np.arange(1, 1 + 2 * 3 * 3, dtype=np.float32).reshape(1, 3, 3, 2) * 100  # all negative
    y = ops.max_pool2d(x, 2, 2, "same")
    assert np.all(y < 0)
    assert_close(y, ref_max_pool(x.astype(np.float64), (2, 2), None, "same"), "elementwise")


@pytest.mark.parametrize("shape,pool,strides,padding", [CONFIGS[1], CONFIGS[3], CONFIGS[4]], ids=["same-s1", "valid-23", "same-s3"])
def test_reference_gradients_by_finite_differences(rng, shape, pool, strides, padding):
    shape = shape[:3] + (min(shape[3], 3),)
    x = _distinct(rng, shape).astype(np.float64)
    dy = rng.standard_normal(_out_shape(shape, pool, strides, padding))
    num = numeric_grad(lambda v: ref_max_pool(v, pool, strides, padding), x, dy=dy)
    assert_close(ref_max_pool_backward(dy, x, pool, strides, padding), num, "grad_fd", dtype=np.float64)
    num = numeric_grad(lambda v: ref_avg_pool(v, pool, strides, padding), x, dy=dy)
    assert_close(ref_avg_pool_backward(dy, shape, pool, strides, padding), num, "grad_fd", dtype=np.float64)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 5, 7, 3), (3, 9, 4, 70), (1, 13, 11, 17)])
def test_global_avg_pool(isa, rng, variant, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    y = nan_tensor((shape[0], shape[3]))
    ops.global_avg_pool2d(nk.tensor(x), out=y, variant=variant)
    assert_close(y.numpy(), x.astype(np.float64).mean(axis=(1, 2)), "reduce")
    dy = rng.standard_normal((shape[0], shape[3])).astype(np.float32)
    dx = nan_tensor(shape)
    ops.global_avg_pool2d_backward(nk.tensor(dy), shape, out=dx, variant=variant)
    expected = np.broadcast_to(dy[:, None, None, :] / (shape[1] * shape[2]), shape)
    assert_close(dx.numpy(), expected, "elementwise")
    xs = x[:1, :3, :3, :2]
    g = dy[:1, :2].astype(np.float64)
    num = numeric_grad(lambda v: v.mean(axis=(1, 2)), xs, dy=g)
    expected = np.broadcast_to(g[:, None, None, :] / (xs.shape[1] * xs.shape[2]), num.shape)
    assert_close(expected, num, "grad_fd", dtype=np.float64)


def test_global_avg_pool_long_sum_accuracy(isa):
    """100 000 positions of 1 + small noise: a naive float32 running sum drifts by ~1e-3 relative;
    the blocked float/double sum must stay at float32 accuracy."""
    rng = np.random.default_rng(5)
    x = (1.0 + 1e-3 * rng.standard_normal((1, 250, 400, 3))).astype(np.float32)
    assert_close(ops.global_avg_pool2d(x), x.astype(np.float64).mean(axis=(1, 2)), "reduce")


def test_numpy_in_numpy_out_and_defaults(rng):
    x = rng.standard_normal((2, 4, 6, 3)).astype(np.float32)
    y = ops.max_pool2d(x)
    assert isinstance(y, np.ndarray) and y.shape == (2, 2, 3, 3) and y.dtype == np.float32
    t = ops.avg_pool2d(nk.tensor(x), pool_size=2, strides=2, padding="SAME")
    assert isinstance(t, nk.Tensor) and tuple(t.shape) == (2, 2, 3, 3)


def test_torch_cross_check(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = _distinct(rng, (2, 9, 11, 5))
    xt = torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float64, requires_grad=True)  # NCHW
    for pool, stride in [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((3, 2), (1, 3))]:
        for kind in ["max", "avg"]:
            fn = F.max_pool2d if kind == "max" else F.avg_pool2d
            yt = fn(xt, pool, stride)  # torch pads nothing: 'valid'
            dy = rng.standard_normal(yt.shape).astype(np.float32)
            (gx,) = torch.autograd.grad(yt, xt, torch.tensor(dy, dtype=torch.float64))
            dy_nhwc = np.ascontiguousarray(dy.transpose(0, 2, 3, 1))
            if kind == "max":
                y = ops.max_pool2d(x, pool, stride, "valid")
                dx = ops.max_pool2d_backward(dy_nhwc, x, pool, stride, "valid")
            else:
                y = ops.avg_pool2d(x, pool, stride, "valid")
                dx = ops.avg_pool2d_backward(dy_nhwc, x.shape, pool, stride, "valid")
            assert_close(y, yt.detach().numpy().transpose(0, 2, 3, 1), "elementwise")
            assert_close(dx, gx.numpy().transpose(0, 2, 3, 1), "elementwise")
    # global average pooling = adaptive_avg_pool2d to 1x1
    yt = F.adaptive_avg_pool2d(xt, 1)
    assert_close(ops.global_avg_pool2d(x), yt.detach().numpy()[:, :, 0, 0], "reduce")


def test_bad_input(rng):
    x = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    with pytest.raises(ValueError, match="no larger than the input"):
        ops.max_pool2d(x, (5, 2), padding="valid")
    with pytest.raises(ValueError, match="no larger than the input"):
        ops.avg_pool2d(x, (2, 5))
    for bad in [0, -1, (2, 0)]:
        with pytest.raises(ValueError, match="pool_size must be positive"):
            ops.max_pool2d(x, bad)
        with pytest.raises(ValueError, match="strides must be positive"):
            ops.avg_pool2d(x, 2, bad)
    with pytest.raises(TypeError, match="pool_size must be an int or a tuple of 2 ints"):
        ops.max_pool2d(x, (2, 2, 2))
    with pytest.raises(TypeError, match="strides must be an int"):
        ops.max_pool2d(x, 2, 1.5)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        ops.max_pool2d(x, 2, padding="full")
    with pytest.raises(ValueError, match="must be 4-d"):
        ops.max_pool2d(x[0])
    with pytest.raises(ValueError, match="must be 4-d"):
        ops.global_avg_pool2d(x[0])
    with pytest.raises(TypeError, match="float32"):
        ops.max_pool2d(nk.tensor(np.ones((1, 4, 4, 2), np.int32)))
    with pytest.raises(ValueError, match="dy must have shape"):
        ops.max_pool2d_backward(np.ones((1, 3, 2, 2), np.float32), x)
    with pytest.raises(ValueError, match="dy must have shape"):
        ops.avg_pool2d_backward(np.ones((1, 2, 2, 3), np.float32), x.shape)
    with pytest.raises(ValueError, match="dy must have shape"):
        ops.global_avg_pool2d_backward(np.ones((1, 3), np.float32), x.shape)
    with pytest.raises(ValueError, match="unknown pooling variant"):
        ops.max_pool2d(x, variant="fast")
    t = nk.tensor(x)
    with pytest.raises(ValueError, match="must not share memory"):
        nk._core.max_pool2d_backward(t, nk.tensor(np.ones((1, 2, 2, 2), np.float32)), t, (2, 2), (2, 2),
                                     "valid", "auto")
    assert math.isfinite(float(ops.max_pool2d(x).sum()))
