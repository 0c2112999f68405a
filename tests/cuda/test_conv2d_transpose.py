"""conv2d_transpose (Keras Conv2DTranspose: kernel (KH, KW, F, C), NHWC) and its gradients on device
'cuda' (csrc/cuda/conv.cu, conv2d's kernels with roles swapped), vs the float64 NumPy references of
tests/test_conv2d_transpose.py, for every CUDA variant. Small shapes: the emulator runs every GPU
thread as a fiber.
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

import test_conv2d as cpu_conv  # tests/test_conv2d.py
import test_conv2d_transpose as cpu  # tests/test_conv2d_transpose.py: the float64 references
assert_close = cpu.assert_close


def dev(a):
    return nk.tensor(np.ascontiguousarray(a, np.float32), device="cuda")


def nan_dev(shape):
    return dev(np.full(shape, np.nan, np.float32))

@pytest.fixture
def emulator_checks():
    """The emulator's checking mode for one test: guard pages around every device buffer (out-of-bounds
    reads and writes fault), poisoned fresh memory, and each kernel run in forward and in reverse thread
    order with the results compared (a race or a missing __syncthreads shows up as a difference).
    Tensors must be created after it is on."""
    from neurokern import _cuda_emu
    _cuda_emu.emu_set_check(True)
    try:
        yield
    finally:
        _cuda_emu.emu_set_check(False)


VARIANTS = ["naive", "smem_tiled"]  # conv2d's CUDA table (tests/cuda/test_conv2d.py checks it)

# (N, H, W, C_in, F_out, (KH, KW), strides, padding, output_padding, dilation)
SHAPES = [
    (1, 4, 5, 3, 2, (3, 3), (2, 2), "same", None, (1, 1)),
    (2, 3, 3, 2, 4, (3, 3), (2, 2), "valid", None, (1, 1)),
    (1, 5, 4, 1, 3, (2, 2), (2, 2), "same", None, (1, 1)),      # C = 1, even kernel
    (1, 3, 4, 2, 3, (1, 1), (3, 3), "valid", None, (1, 1)),     # kernel < stride: gaps of zeros
    (2, 3, 5, 3, 2, (3, 2), (3, 2), "valid", (2, 1), (1, 1)),   # output_padding
    (1, 6, 5, 2, 3, (3, 3), (1, 1), "same", None, (2, 2)),      # dilation
    (1, 5, 5, 3, 3, (5, 5), (1, 1), "valid", None, (1, 1)),     # 5x5
    (3, 7, 6, 5, 67, (3, 3), (2, 2), "same", None, (1, 1)),     # F = 67: two column tiles
]
IDS = [f"{s[0]}x{s[1]}x{s[2]}x{s[3]}-{s[4]}_k{s[5][0]}{s[5][1]}_s{s[6][0]}{s[6][1]}_{s[7]}_op{s[8]}_d{s[9][0]}"
       for s in SHAPES]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_forward(rng, variant, shape):
    x, w, b, _, expected = cpu.case(rng, shape)
    y = nan_dev(expected.shape)
    out = ops.conv2d_transpose(dev(x), dev(w), dev(b), out=y, variant=variant, **cpu.args(shape))
    assert out is y
    assert_close(y.numpy(), expected, "conv")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_data(rng, variant, shape):
    x, w, _, dy, _ = cpu.case(rng, shape)
    a = cpu.args(shape)
    dx = nan_dev(x.shape)
    ops.conv2d_transpose_backward_data(dev(dy), dev(w), x.shape, out=dx, variant=variant, **a)
    # the data gradient of the transposed conv is the conv2d (float64 reference of tests/test_conv2d.py)
    pads = sum(cpu._pads_of(shape, dy.shape), ())
    assert_close(dx.numpy(), cpu_conv.ref_conv2d(dy, w, None, a["strides"], pads, a["dilation_rate"]), "conv")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_weights_accumulates(rng, variant, shape):
    x, w, b, dy, _ = cpu.case(rng, shape)
    a = cpu.args(shape)
    gw = cpu.ref_weight_grad(dy, x, shape[5], a["strides"], a["padding"], a["output_padding"], a["dilation_rate"])
    dw0 = rng.uniform(-1, 1, w.shape).astype(np.float32)
    db0 = rng.uniform(-1, 1, b.shape).astype(np.float32)
    dw, db = dev(dw0), dev(db0)
    ops.conv2d_transpose_backward_weights(dw, db, dev(dy), dev(x), variant=variant, **a)
    assert_close(dw.numpy(), dw0 + gw, "conv")
    assert_close(db.numpy(), db0 + dy.astype(np.float64).sum(axis=(0, 1, 2)), "conv")
    ops.conv2d_transpose_backward_weights(dw, None, dev(dy), dev(x), variant=variant, **a)
    assert_close(dw.numpy(), dw0 + 2 * gw, "conv")
    assert_close(db.numpy(), db0 + dy.astype(np.float64).sum(axis=(0, 1, 2)), "conv")


@pytest.mark.parametrize("variant", VARIANTS)
def test_under_emulator_checks(rng, emulator_checks, variant):
    shape = SHAPES[4]  # strided, output_padding
    x, w, b, dy, expected = cpu.case(rng, shape)
    a = cpu.args(shape)
    assert_close(ops.conv2d_transpose(dev(x), dev(w), dev(b), variant=variant, **a).numpy(), expected, "conv")
    dw, db = dev(np.zeros(w.shape)), dev(np.zeros(b.shape))
    ops.conv2d_transpose_backward_weights(dw, db, dev(dy), dev(x), variant=variant, **a)
    gw = cpu.ref_weight_grad(dy, x, shape[5], a["strides"], a["padding"], a["output_padding"], a["dilation_rate"])
    assert_close(dw.numpy(), gw, "conv")


@pytest.mark.parametrize("shape", SHAPES[:3], ids=IDS[:3])
def test_gradients_by_finite_differences(rng, shape):
    x, w, b, dy, _ = cpu.case(rng, shape)
    a = cpu.args(shape)
    r = (a["strides"], a["padding"], a["output_padding"], a["dilation_rate"])
    gx = cpu.numeric_grad(lambda v: cpu.ref_conv2d_transpose(v, w, b, *r), x, dy=dy)
    gw = cpu.numeric_grad(lambda v: cpu.ref_conv2d_transpose(x, v, b, *r), w, dy=dy)
    dx = ops.conv2d_transpose_backward_data(dev(dy), dev(w), x.shape, **a)
    dw = dev(np.zeros(w.shape))
    ops.conv2d_transpose_backward_weights(dw, None, dev(dy), dev(x), **a)
    assert_close(dx.numpy(), gx, "conv")
    assert_close(dw.numpy(), gw, "conv")


def test_bad_input():
    x, w = dev(np.zeros((2, 4, 5, 3))), dev(np.zeros((3, 3, 2, 3)))
    with pytest.raises(ValueError, match="3 channels .* kernel expects 4"):
        ops.conv2d_transpose(x, dev(np.zeros((3, 3, 2, 4))))
    with pytest.raises(ValueError, match=r"dy must have the output's shape \(2, 8, 10, 2\)"):
        ops.conv2d_transpose_backward_data(dev(np.zeros((2, 8, 9, 2))), w, x.shape, strides=2, padding="same")
    with pytest.raises(ValueError, match="unknown conv2d_transpose_forward variant 'direct_avx512'"):
        ops.conv2d_transpose(x, w, variant="direct_avx512")
    m = backend(x)
    with pytest.raises(ValueError, match=r"an output of shape \(2, 6, 7, 2\) corresponds to an input of shape "
                                         r"\(2, 4, 5, 3\), got x of shape \(2, 4, 4, 3\)"):
        m.conv2d_transpose_forward(nan_dev((2, 6, 7, 2)), dev(np.zeros((2, 4, 4, 3))), w, None, (1, 1),
                                   (0, 0, 0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\)"):
        ops.conv2d_transpose(x, w, dev(np.zeros(3)))
