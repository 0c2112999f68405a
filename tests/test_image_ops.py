"""ops.affine_transform2d / affine_transform2d_backward against a float64 NumPy reference written here
from the rules in csrc/cpu/image.h (TF ImageProjectiveTransformV3 sampling), on every ISA path, for
every fill mode and interpolation; the backward against the transpose of the forward's matrix."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops

from conftest import assert_close, nan_tensor

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


# --- the reference -------------------------------------------------------------------------------

def map_coord(c, length, mode):
    c = np.asarray(c, dtype=np.float64).copy()
    if mode == "constant":
        return c
    if length <= 1:
        return np.zeros_like(c)
    if mode == "reflect":
        c = np.fmod(c, 2.0 * length)
        c = np.where(c < 0, c + 2.0 * length, c)
        c = np.where(c >= length, 2.0 * length - 1.0 - c, c)
    elif mode == "wrap":
        c = np.fmod(c, float(length))
        c = np.where(c < 0, c + length, c)
    return np.clip(c, 0.0, length - 1.0)


def reference_matrix(t, h, w, oh, ow, interpolation, mode):
    """M (oh*ow, h*w + 1): y_flat = M @ [x_flat; fill] for one image; the last column takes fill_value."""
    t = np.asarray(t, dtype=np.float32).astype(np.float64)
    m = np.zeros((oh * ow, h * w + 1))
    ii, jj = np.meshgrid(np.arange(oh, dtype=np.float64), np.arange(ow, dtype=np.float64), indexing="ij")
    u = map_coord(t[0] * jj + t[1] * ii + t[2], w, mode).ravel()
    v = map_coord(t[3] * jj + t[4] * ii + t[5], h, mode).ravel()
    if interpolation == "nearest":
        # halves away from zero (np.round would round them to even)
        taps = [(np.sign(v) * np.floor(np.abs(v) + 0.5), np.sign(u) * np.floor(np.abs(u) + 0.5), np.ones_like(u))]
    else:
        u0, v0 = np.floor(u), np.floor(v)
        fu, fv = u - u0, v - v0
        taps = [(v0, u0, (1 - fv) * (1 - fu)), (v0, u0 + 1, (1 - fv) * fu),
                (v0 + 1, u0, fv * (1 - fu)), (v0 + 1, u0 + 1, fv * fu)]
    rows = np.arange(oh * ow)
    for r, c, wt in taps:
        inside = (r >= 0) & (r <= h - 1) & (c >= 0) & (c <= w - 1)
        col = np.where(inside, r * w + c, h * w).astype(np.int64)
        np.add.at(m, (rows, col), wt)
    return m


def reference_forward(x, t, interpolation, mode, fill_value, out_hw=None):
    n, h, w, c = x.shape
    oh, ow = out_hw or (h, w)
    y = np.empty((n, oh, ow, c))
    for k in range(n):
        m = reference_matrix(t[k], h, w, oh, ow, interpolation, mode)
        xf = np.concatenate([x[k].reshape(h * w, c).astype(np.float64), np.full((1, c), fill_value)], axis=0)
        y[k] = (m @ xf).reshape(oh, ow, c)
    return y


def reference_backward(dy, t, h, w, interpolation, mode):
    n, oh, ow, c = dy.shape
    dx = np.empty((n, h, w, c))
    for k in range(n):
        m = reference_matrix(t[k], h, w, oh, ow, interpolation, mode)[:, :h * w]
        dx[k] = (m.T @ dy[k].reshape(oh * ow, c).astype(np.float64)).reshape(h, w, c)
    return dx


def random_transforms(rng, n, h, w):
    """Rotations, zooms, shears and shifts large enough to sample well outside the image."""
    t = np.empty((n, 6), np.float32)
    for k in range(n):
        a = rng.uniform(-np.pi, np.pi)
        s = rng.uniform(0.6, 1.7, size=2)
        sh = rng.uniform(-0.3, 0.3)
        t[k] = [s[0] * np.cos(a), -s[1] * np.sin(a) + sh, rng.uniform(-1.5, 1.5) * w,
                s[0] * np.sin(a), s[1] * np.cos(a), rng.uniform(-1.5, 1.5) * h]
    return t


SHAPES = [(1, 1, 1, 1), (2, 7, 5, 3), (3, 16, 17, 1), (1, 33, 9, 20)]


# --- forward / backward vs the reference ---------------------------------------------------------

@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_reference(isa, rng, shape, interpolation, mode):
    x = rng.standard_normal(shape).astype(np.float32)
    t = random_transforms(rng, shape[0], shape[1], shape[2])
    y = nan_tensor(shape)
    got = ops.affine_transform2d(nk.tensor(x), t, interpolation, mode, fill_value=0.75, out=y)
    assert got is y
    assert_close(y.numpy(), reference_forward(x, t, interpolation, mode, 0.75), "elementwise")


@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_output_size_differs_from_input(isa, rng, interpolation, mode):
    x = rng.standard_normal((2, 9, 14, 2)).astype(np.float32)
    t = random_transforms(rng, 2, 9, 14)
    y = ops.affine_transform2d(x, t, interpolation, mode, fill_value=-2.0, output_shape=(11, 6))
    assert_close(y, reference_forward(x, t, interpolation, mode, -2.0, out_hw=(11, 6)), "elementwise")


@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_is_the_adjoint(isa, rng, shape, interpolation, mode):
    dy = rng.standard_normal(shape).astype(np.float32)
    t = random_transforms(rng, shape[0], shape[1], shape[2])
    dx = nan_tensor(shape)
    ops.affine_transform2d_backward(nk.tensor(dy), t, shape, interpolation, mode, out=dx)
    assert_close(dx.numpy(), reference_backward(dy, t, shape[1], shape[2], interpolation, mode), "elementwise")


def test_backward_overwrites_and_matches_dot_product(rng):
    # <A x, dy> == <x, A^T dy> with A the bilinear, constant-fill sampling (fill 0 makes A linear)
    x = rng.standard_normal((2, 8, 6, 3)).astype(np.float32)
    dy = rng.standard_normal((2, 8, 6, 3)).astype(np.float32)
    t = random_transforms(rng, 2, 8, 6)
    y = ops.affine_transform2d(x, t, "bilinear", "constant", 0.0)
    dx = nk.tensor(np.full(x.shape, 123.0, np.float32))
    ops.affine_transform2d_backward(dy, t, x.shape, "bilinear", "constant", out=dx)
    lhs = np.sum(y.astype(np.float64) * dy)
    rhs = np.sum(dx.numpy().astype(np.float64) * x)
    assert_close(np.float32(lhs), np.float32(rhs), "reduce")


# --- exact cases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_identity_flip_and_integer_shift_are_exact(isa, rng, interpolation):
    x = rng.standard_normal((2, 5, 7, 3)).astype(np.float32)
    ident = [1, 0, 0, 0, 1, 0]
    np.testing.assert_array_equal(ops.affine_transform2d(x, ident, interpolation), x)
    hflip = [-1, 0, 6, 0, 1, 0]      # column j reads column W-1-j
    np.testing.assert_array_equal(ops.affine_transform2d(x, hflip, interpolation), x[:, :, ::-1])
    vflip = [1, 0, 0, 0, -1, 4]
    np.testing.assert_array_equal(ops.affine_transform2d(x, vflip, interpolation), x[:, ::-1])
    shift = [1, 0, -2, 0, 1, 0]      # right by 2, constant fill
    y = ops.affine_transform2d(x, shift, interpolation, "constant", fill_value=9.0)
    np.testing.assert_array_equal(y[:, :, 2:], x[:, :, :-2])
    np.testing.assert_array_equal(y[:, :, :2], 9.0)


def test_fill_modes_on_a_row():
    # one row 0..4 shifted right by 7: reflect d c b a | a b c d, wrap periodic, nearest edge, constant
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5, 1)
    shift = [1, 0, -7, 0, 1, 0]
    got = {m: ops.affine_transform2d(x, shift, "nearest", m, fill_value=-1.0)[0, 0, :, 0].tolist()
           for m in FILL_MODES}
    assert got["constant"] == [-1] * 5
    assert got["nearest"] == [0] * 5
    assert got["wrap"] == [3, 4, 0, 1, 2]            # -7..-3 mod 5
    assert got["reflect"] == [3, 4, 4, 3, 2]         # -7..-3 -> 6 5 ... folded: 3 4 4 3 2


def test_per_image_transforms_and_shared_row(rng):
    x = rng.standard_normal((3, 6, 6, 2)).astype(np.float32)
    t = random_transforms(rng, 3, 6, 6)
    whole = ops.affine_transform2d(x, t)
    for k in range(3):
        np.testing.assert_array_equal(ops.affine_transform2d(x[k:k + 1], t[k]), whole[k:k + 1])
    # Keras' 8-column form with zero projective terms is accepted
    t8 = np.concatenate([t, np.zeros((3, 2), np.float32)], axis=1)
    np.testing.assert_array_equal(ops.affine_transform2d(x, t8), whole)


def test_threads_do_not_change_results(rng):
    x = rng.standard_normal((4, 40, 40, 3)).astype(np.float32)
    t = random_transforms(rng, 4, 40, 40)
    prev = nk.get_num_threads()
    try:
        nk.set_num_threads(1)
        one = ops.affine_transform2d(x, t), ops.affine_transform2d_backward(x, t, x.shape)
        nk.set_num_threads(2)
        two = ops.affine_transform2d(x, t), ops.affine_transform2d_backward(x, t, x.shape)
    finally:
        nk.set_num_threads(prev)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


# --- bad input -----------------------------------------------------------------------------------

def test_bad_arguments_raise():
    x = np.zeros((2, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        ops.affine_transform2d(x, [1, 0, 0, 0, 1, 0], fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        ops.affine_transform2d(x, [1, 0, 0, 0, 1, 0], interpolation="bicubic")
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        ops.affine_transform2d(np.zeros((4, 4, 1), np.float32), [1, 0, 0, 0, 1, 0])
    with pytest.raises(ValueError, match="transforms must have shape"):
        ops.affine_transform2d(x, np.zeros((3, 6)))
    with pytest.raises(ValueError, match="projective terms"):
        ops.affine_transform2d(x, [1, 0, 0, 0, 1, 0, 0.1, 0])
    with pytest.raises(ValueError, match="transforms must be finite"):
        ops.affine_transform2d(x, [1, 0, np.nan, 0, 1, 0])
    with pytest.raises(ValueError, match="fill_value must be finite"):
        ops.affine_transform2d(x, [1, 0, 0, 0, 1, 0], fill_value=np.inf)
    xt = nk.tensor(x)
    with pytest.raises(ValueError, match="overlap"):
        ops.affine_transform2d(xt, [1, 0, 0, 0, 1, 0], out=xt)
    with pytest.raises(TypeError, match="dtype"):
        nk._core.affine_transform2d_forward(nk.empty((2, 4, 4, 1)), nk.tensor(x.astype(np.int32), "int32"),
                                            nk.tensor(np.zeros((2, 6), np.float32)), "bilinear", "reflect", 0.0)


@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_backward_matches_finite_differences(rng, interpolation, mode):
    """dx from the kernel = d(sum(forward(x) * dy))/dx of the float64 reference forward."""
    from _gradcheck import numeric_grad
    x = rng.standard_normal((2, 5, 4, 2))
    dy = rng.standard_normal((2, 5, 4, 2))
    t = random_transforms(rng, 2, 5, 4)
    num = numeric_grad(lambda xx: reference_forward(xx, t, interpolation, mode, 0.3), x, dy=dy)
    got = ops.affine_transform2d_backward(dy.astype(np.float32), t, x.shape, interpolation, mode)
    assert_close(got, num, "elementwise")
