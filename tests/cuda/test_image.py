"""Affine image resampling CUDA kernels (csrc/cuda/image.cu) vs the float64 NumPy reference of
tests/test_image_ops.py, run on the emulator (or a GPU): every fill mode and interpolation, output sizes
different from the input, the backward (naive: atomic scatter) against the reference adjoint, the
emulator's differential checking mode, bad input, and the augmentation layers on 'cuda' vs 'cpu'."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import cuda, layers, ops
from neurokern.ops._util import backend

from _device import check, cu, nan_cu
from _tol import TOL
from test_image_ops import FILL_MODES, INTERPOLATIONS, random_transforms, reference_backward, reference_forward

# batch 1, odd and prime H/W, C = 1, 3, 5; 1x1 images fold every coordinate onto one pixel
SHAPES = [(1, 1, 1, 1), (1, 7, 5, 3), (2, 9, 4, 5), (3, 13, 11, 1)]
# output (OH, OW): the input's, or a different size (smaller, larger, non-square)
OUT_HW = [None, (6, 11), (1, 3)]


def _case(rng, shape, out_hw):
    n, h, w, c = shape
    oh, ow = out_hw or (h, w)
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal((n, oh, ow, c)).astype(np.float32)
    return x, dy, random_transforms(rng, n, h, w), (oh, ow)


@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("out_hw", OUT_HW, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_matches_reference(rng, shape, out_hw, interpolation, mode):
    x, _, t, (oh, ow) = _case(rng, shape, out_hw)
    y = nan_cu((shape[0], oh, ow, shape[3]))
    got = ops.affine_transform2d(cu(x), t, interpolation, mode, fill_value=0.75, output_shape=(oh, ow), out=y)
    assert got is y
    check(y, reference_forward(x, t, interpolation, mode, 0.75, out_hw=(oh, ow)))


@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("out_hw", OUT_HW, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_is_the_adjoint(rng, shape, out_hw, interpolation, mode):
    _, dy, t, _ = _case(rng, shape, out_hw)
    dx = nan_cu(shape)
    got = ops.affine_transform2d_backward(cu(dy), t, shape, interpolation, mode, out=dx)
    assert got is dx
    check(dx, reference_backward(dy, t, shape[1], shape[2], interpolation, mode))


def test_backward_overwrites(rng):
    """dx = (not +=): a dx full of garbage comes back equal to the reference."""
    _, dy, t, _ = _case(rng, (2, 8, 6, 3), (5, 7))
    dx = cu(np.full((2, 8, 6, 3), 123.0))
    ops.affine_transform2d_backward(cu(dy), t, (2, 8, 6, 3), "bilinear", "constant", out=dx)
    check(dx, reference_backward(dy, t, 8, 6, "bilinear", "constant"))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_identity_flip_and_integer_shift_are_exact(rng, interpolation):
    x = rng.standard_normal((2, 5, 7, 3)).astype(np.float32)
    xd = cu(x)
    np.testing.assert_array_equal(ops.affine_transform2d(xd, [1, 0, 0, 0, 1, 0], interpolation).numpy(), x)
    np.testing.assert_array_equal(ops.affine_transform2d(xd, [-1, 0, 6, 0, 1, 0], interpolation).numpy(),
                                  x[:, :, ::-1])
    np.testing.assert_array_equal(ops.affine_transform2d(xd, [1, 0, 0, 0, -1, 4], interpolation).numpy(),
                                  x[:, ::-1])
    y = ops.affine_transform2d(xd, [1, 0, -2, 0, 1, 0], interpolation, "constant", fill_value=9.0).numpy()
    np.testing.assert_array_equal(y[:, :, 2:], x[:, :, :-2])
    np.testing.assert_array_equal(y[:, :, :2], 9.0)


def test_fill_modes_on_a_row():
    # one row 0..4 shifted right by 7 (tests/test_image_ops.py's values)
    x = cu(np.arange(5).reshape(1, 1, 5, 1))
    shift = [1, 0, -7, 0, 1, 0]
    got = {m: ops.affine_transform2d(x, shift, "nearest", m, fill_value=-1.0).numpy()[0, 0, :, 0].tolist()
           for m in FILL_MODES}
    assert got == {"constant": [-1] * 5, "nearest": [0] * 5, "wrap": [3, 4, 0, 1, 2], "reflect": [3, 4, 4, 3, 2]}


def test_nearest_rounds_halves_away_from_zero():
    # constant fill leaves coordinates unmapped: u = j + 0.5 reads column j + 1 (6 is outside);
    # u = j - 0.5 reads column j (round(0.5) = 1 ...), and round(-0.5) = -1 is outside
    x = cu(np.arange(6).reshape(1, 1, 6, 1))
    y = ops.affine_transform2d(x, [1, 0, 0.5, 0, 1, 0], "nearest", "constant", fill_value=-1.0).numpy()
    assert y[0, 0, :, 0].tolist() == [1, 2, 3, 4, 5, -1]
    y = ops.affine_transform2d(x, [1, 0, -0.5, 0, 1, 0], "nearest", "constant", fill_value=-1.0).numpy()
    assert y[0, 0, :, 0].tolist() == [-1, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_cuda_matches_cpu(rng, interpolation, mode):
    """The device kernels take the CPU's taps and weights (same double coordinates, same float weights)."""
    x, dy, t, _ = _case(rng, (3, 12, 10, 4), None)
    cpu_y = ops.affine_transform2d(x, t, interpolation, mode, fill_value=0.25)
    cpu_dx = ops.affine_transform2d_backward(dy, t, x.shape, interpolation, mode)
    check(ops.affine_transform2d(cu(x), t, interpolation, mode, fill_value=0.25), cpu_y)
    check(ops.affine_transform2d_backward(cu(dy), t, x.shape, interpolation, mode), cpu_dx)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_under_differential_checking(checking, rng, interpolation):
    x, dy, t, (oh, ow) = _case(rng, (2, 11, 9, 3), (7, 13))
    y = nan_cu((2, oh, ow, 3))
    ops.affine_transform2d(cu(x), t, interpolation, "reflect", out=y, output_shape=(oh, ow))
    check(y, reference_forward(x, t, interpolation, "reflect", 0.0, out_hw=(oh, ow)))
    dx = nan_cu(x.shape)
    ops.affine_transform2d_backward(cu(dy), t, x.shape, interpolation, "wrap", out=dx)
    check(dx, reference_backward(dy, t, 11, 9, interpolation, "wrap"))


def test_empty_output_leaves_dx_zero(rng):
    t = random_transforms(rng, 2, 4, 3)
    dx = nan_cu((2, 4, 3, 2))
    backend(dx).affine_transform2d_backward(dx, cu(np.zeros((2, 0, 5, 2))), cu(t), "bilinear", "reflect")
    check(dx, np.zeros((2, 4, 3, 2)))


def test_bad_input(rng):
    x = cu(rng.standard_normal((2, 4, 4, 1)))
    t = cu(np.tile([1, 0, 0, 0, 1, 0], (2, 1)))
    k = backend(x)
    with pytest.raises(ValueError, match="fill_mode must be 'reflect', 'wrap', 'constant' or 'nearest', got 'mirror'"):
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), x, t, "bilinear", "mirror", 0.0)
    with pytest.raises(ValueError, match="interpolation must be 'bilinear' or 'nearest', got 'bicubic'"):
        k.affine_transform2d_backward(nan_cu((2, 4, 4, 1)), x, t, "bicubic", "reflect")
    with pytest.raises(ValueError, match="fill_value must be finite"):
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), x, t, "bilinear", "constant", float("inf"))
    with pytest.raises(ValueError, match="x must be 4-d|x.*4"):
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), cu(np.ones((2, 4, 4))), t, "bilinear", "reflect", 0.0)
    with pytest.raises(ValueError, match="batch and channel sizes must match"):
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 3)), x, t, "bilinear", "reflect", 0.0)
    with pytest.raises(ValueError, match="batch and channel sizes must match"):
        k.affine_transform2d_backward(nan_cu((2, 4, 4, 1)), nan_cu((1, 4, 4, 1)), t, "bilinear", "reflect")
    with pytest.raises(ValueError, match="transforms"):
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), x, cu(np.zeros((3, 6))), "bilinear", "reflect", 0.0)
    bad = np.tile([1, 0, 0, 0, 1, 0], (2, 1)).astype(np.float32)
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="transforms must be finite; entry 1,2 is nan"):
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), x, cu(bad), "bilinear", "reflect", 0.0)
    with pytest.raises(ValueError, match="transforms must be finite"):
        ops.affine_transform2d(x, [1, 0, np.inf, 0, 1, 0])
    with pytest.raises(ValueError, match="overlap"):
        k.affine_transform2d_forward(x, x, t, "bilinear", "reflect", 0.0)
    with pytest.raises(TypeError, match="float32"):
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), cu(np.ones((2, 4, 4, 1)), np.int32), t, "bilinear",
                                     "reflect", 0.0)
    with pytest.raises(ValueError, match="cuda"):  # a host tensor given to the device kernel
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), nk.tensor(np.ones((2, 4, 4, 1), np.float32)), t,
                                     "bilinear", "reflect", 0.0)
    with pytest.raises(ValueError, match="cuda"):  # the transforms too
        k.affine_transform2d_forward(nan_cu((2, 4, 4, 1)), x, nk.tensor(np.asarray(bad)), "bilinear", "reflect", 0.0)


# --- the augmentation layers ---------------------------------------------------------------------

AUG = {
    "flip": lambda: layers.RandomFlip(seed=3),
    "translation": lambda: layers.RandomTranslation(0.2, (-0.3, 0.1), fill_mode="constant", fill_value=0.5, seed=4),
    "rotation": lambda: layers.RandomRotation(0.2, seed=5),
    "rotation_nearest_wrap": lambda: layers.RandomRotation(0.3, fill_mode="wrap", interpolation="nearest", seed=6),
    "zoom": lambda: layers.RandomZoom((-0.4, 0.3), fill_mode="nearest", seed=7),
}


@pytest.mark.parametrize("name", AUG)
def test_augmentation_layers_on_cuda_match_cpu(rng, name):
    """The same seed draws the same matrices on both devices; outputs and input gradients agree."""
    x = rng.standard_normal((4, 9, 7, 3)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    results = {}
    for device in ("cpu", "cuda"):
        layer = AUG[name]()
        xt = nk.tensor(x, device=device)
        y, ctx = layer.forward(xt, training=True)
        dx = layer.backward(ctx, nk.tensor(dy, device=device))
        assert y.device == device and dx.device == device
        y2 = layer(xt, training=True)  # __call__, the next draw
        results[device] = [t.numpy() for t in (y, dx, y2)]
    for got, want in zip(results["cuda"], results["cpu"]):
        assert got.shape == want.shape == x.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, *TOL["elementwise"])
    assert not np.allclose(results["cpu"][0], x)  # the layer did something


def test_augmentation_in_a_model_trained_on_cuda_matches_cpu(rng):
    x = rng.uniform(0, 1, (16, 8, 8, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)

    def build():
        return nk.models.Sequential([layers.Input(shape=(8, 8, 1)), layers.RandomFlip("horizontal", seed=0),
                                     layers.RandomRotation(0.05, seed=0), layers.Conv2D(2, 3),
                                     layers.Flatten(), layers.Dense(2, activation="softmax")])

    weights = build().get_weights()
    out = {}
    for device in ("cpu", "cuda"):
        model = build()
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.to(device)
        history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        out[device] = history.history["loss"], model.get_weights()
    np.testing.assert_allclose(out["cuda"][0], out["cpu"][0], rtol=2e-4, atol=2e-5)
    for a, b in zip(out["cuda"][1], out["cpu"][1]):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
