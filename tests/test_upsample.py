"""UpSampling2D kernels (csrc/cpu/upsample*.cpp) vs plain float64 NumPy loops, on every ISA and both
variants, finite-difference checks of the reference gradient, and PyTorch cross-checks."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

VARIANTS = ["naive", "auto"]
SHAPES = [(1, 1, 1, 1), (2, 3, 5, 3), (1, 7, 4, 17), (2, 4, 3, 33), (1, 2, 3, 70), (2, 15, 16, 40)]  # last: OpenMP
SIZES = [(2, 2), (2, 3), (3, 1), (1, 1)]


def _src(o, s, n):
    """Bilinear source (lo, hi, weight of hi) of output index o, as tf.image.resize with
    half_pixel_centers: src = (o + 0.5) / s - 0.5, floor / ceil clamped to [0, n - 1]."""
    src = (o + 0.5) / s - 0.5
    fl = np.floor(src)
    return max(int(fl), 0), min(int(np.ceil(src)), n - 1), src - fl


def ref_upsample(x, size, interpolation):
    n, h, w, c = x.shape
    sh, sw = size
    y = np.empty((n, h * sh, w * sw, c))
    for oh in range(h * sh):
        for ow in range(w * sw):
            if interpolation == "nearest":
                y[:, oh, ow] = x[:, oh // sh, ow // sw]
                continue
            h0, h1, fh = _src(oh, sh, h)
            w0, w1, fw = _src(ow, sw, w)
            y[:, oh, ow] = ((1 - fh) * ((1 - fw) * x[:, h0, w0] + fw * x[:, h0, w1])
                            + fh * ((1 - fw) * x[:, h1, w0] + fw * x[:, h1, w1]))
    return y


def ref_upsample_backward(dy, shape, size, interpolation):
    dx = np.zeros(shape)
    sh, sw = size
    for oh in range(shape[1] * sh):
        for ow in range(shape[2] * sw):
            g = dy[:, oh, ow]
            if interpolation == "nearest":
                dx[:, oh // sh, ow // sw] += g
                continue
            h0, h1, fh = _src(oh, sh, shape[1])
            w0, w1, fw = _src(ow, sw, shape[2])
            dx[:, h0, w0] += (1 - fh) * (1 - fw) * g
            dx[:, h0, w1] += (1 - fh) * fw * g
            dx[:, h1, w0] += fh * (1 - fw) * g
            dx[:, h1, w1] += fh * fw * g
    return dx


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_backward(isa, rng, variant, interpolation, size, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    oshape = (shape[0], shape[1] * size[0], shape[2] * size[1], shape[3])
    y = nan_tensor(oshape)
    ops.upsampling2d(nk.tensor(x), size, interpolation, out=y, variant=variant)
    assert_close(y.numpy(), ref_upsample(x.astype(np.float64), size, interpolation), "elementwise")
    dy = rng.standard_normal(oshape).astype(np.float32)
    dx = nan_tensor(shape)
    ops.upsampling2d_backward(nk.tensor(dy), shape, size, interpolation, out=dx, variant=variant)
    assert_close(dx.numpy(), ref_upsample_backward(dy.astype(np.float64), shape, size, interpolation),
                 "elementwise")


def test_bilinear_known_values():
    """1-d row [0, 1] upsampled x2 with half-pixel centres: outputs sit at source coordinates
    -0.25, 0.25, 0.75, 1.25 -> clamped edges give [0, 0.25, 0.75, 1] (tf.image.resize values)."""
    x = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    assert_close(ops.upsampling2d(x, (1, 2), "bilinear").ravel(), np.array([0, 0.25, 0.75, 1.0]), "elementwise")
    x = np.array([0.0, 3.0], np.float32).reshape(1, 1, 2, 1)  # x3: coordinates -1/3, 0, 1/3, 2/3, 1, 4/3
    assert_close(ops.upsampling2d(x, (1, 3), "bilinear").ravel(), np.array([0, 0, 1, 2, 3, 3.0]), "elementwise")


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_reference_gradient_by_finite_differences(rng, interpolation):
    shape, size = (1, 3, 4, 2), (2, 3)
    x = rng.standard_normal(shape)
    dy = rng.standard_normal((1, 6, 12, 2))
    num = numeric_grad(lambda v: ref_upsample(v, size, interpolation), x, dy=dy)
    assert_close(ref_upsample_backward(dy, shape, size, interpolation), num, "grad_fd", dtype=np.float64)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_torch_cross_check(rng, interpolation):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 5, 7, 3)).astype(np.float32)
    for size in [(2, 2), (2, 3), (3, 1)]:
        xt = torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float64, requires_grad=True)
        kw = {"align_corners": False} if interpolation == "bilinear" else {}
        yt = torch.nn.functional.interpolate(xt, scale_factor=size, mode=interpolation, **kw)
        dy = rng.standard_normal(yt.shape).astype(np.float32)
        (gx,) = torch.autograd.grad(yt, xt, torch.tensor(dy, dtype=torch.float64))
        y = ops.upsampling2d(x, size, interpolation)
        dx = ops.upsampling2d_backward(np.ascontiguousarray(dy.transpose(0, 2, 3, 1)), x.shape, size, interpolation)
        assert_close(y, yt.detach().numpy().transpose(0, 2, 3, 1), "elementwise")
        assert_close(dx, gx.numpy().transpose(0, 2, 3, 1), "elementwise")


def test_bad_input(rng):
    x = rng.standard_normal((1, 3, 3, 2)).astype(np.float32)
    for bad in [0, -2, (2, 0)]:
        with pytest.raises(ValueError, match="size must be positive"):
            ops.upsampling2d(x, bad)
    with pytest.raises(TypeError, match="size must be an int or a tuple of 2 ints"):
        ops.upsampling2d(x, (2.5, 2))
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear'"):
        ops.upsampling2d(x, 2, "bicubic")
    with pytest.raises(ValueError, match="must be 4-d"):
        ops.upsampling2d(x[0])
    with pytest.raises(TypeError, match="float32"):
        ops.upsampling2d(nk.tensor(np.ones((1, 2, 2, 1), np.int64)))
    with pytest.raises(ValueError, match="dy must have shape"):
        ops.upsampling2d_backward(np.ones((1, 6, 5, 2), np.float32), x.shape, 2)
    with pytest.raises(ValueError, match="unknown upsampling variant"):
        ops.upsampling2d(x, variant="fast")
