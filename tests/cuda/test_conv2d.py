"""conv2d forward / backward-data / backward-weights on device 'cuda' (csrc/cuda/conv.cu), run on the
emulator here: every CUDA variant vs the float64 NumPy references of tests/test_conv2d.py, the
accumulate rule, the K split of the weight gradient, empty shapes and bad input.

Shapes stay small (the emulator runs every GPU thread as a fiber) but cover batch 1, C = 1 and 3,
odd H/W, strides 2 and 3, kernels 1/3/5, dilation, asymmetric padding, F > 64 (two column tiles),
more than one 64-row tile and a weight gradient long enough to be split over K.
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

import test_conv2d as cpu  # tests/test_conv2d.py: the float64 references
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


def cuda_module():
    return backend(dev(np.zeros(1)))


VARIANTS = ["naive", "smem_tiled"]  # the CUDA table (test_registry checks it), simplest first

# (N, H, W, C, F, (KH, KW), strides, padding, dilation)
SHAPES = [
    (1, 7, 9, 3, 5, (3, 3), (1, 1), "same", (1, 1)),
    (2, 11, 13, 1, 6, (5, 5), (1, 1), "same", (1, 1)),       # C = 1, 5x5
    (2, 9, 7, 3, 4, (3, 3), (2, 2), "same", (1, 1)),         # stride 2, odd sizes
    (1, 13, 12, 4, 3, (3, 3), (3, 3), "valid", (1, 1)),      # stride 3
    (2, 12, 11, 3, 7, (3, 3), (1, 1), "same", (2, 2)),       # dilation 2
    (2, 7, 7, 5, 4, (1, 1), (2, 2), "valid", (1, 1)),        # 1x1 strided
    (1, 8, 9, 3, 4, (3, 2), (2, 1), ((1, 2), (0, 3)), (1, 2)),  # asymmetric explicit padding
    (1, 6, 6, 17, 70, (3, 3), (1, 1), 1, (1, 1)),            # F = 70: two column tiles, K = 153
    (3, 9, 10, 2, 9, (3, 3), (1, 1), "same", (1, 1)),        # P = 270: five row tiles
    (4, 17, 16, 3, 5, (3, 3), (1, 1), "same", (1, 1)),       # P = 1088: weight gradient split over K
]
IDS = [f"{s[0]}x{s[1]}x{s[2]}x{s[3]}-{s[4]}_k{s[5][0]}{s[5][1]}_s{s[6][0]}{s[6][1]}_{s[7]}_d{s[8][0]}"
       for s in SHAPES]


def case(rng, shape):
    x, w, b, dy, pads = cpu.case(rng, shape)
    return x, w, b, dy, pads, dict(strides=shape[6], padding=shape[7], dilation_rate=shape[8])


def test_registry():
    tables = cuda_module().conv2d_variants()
    assert set(tables) == {"forward", "backward_data", "backward_weights"}
    for table in tables.values():
        assert [v[0] for v in table] == VARIANTS
        assert all(isa == "cuda" and len(desc) > 10 for _, isa, desc in table)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_forward(rng, variant, shape):
    x, w, b, _, pads, a = case(rng, shape)
    y = nan_dev(cpu.ref_conv2d(x, w, b, a["strides"], pads, a["dilation_rate"]).shape)
    out = ops.conv2d(dev(x), dev(w), dev(b), out=y, variant=variant, **a)
    assert out is y and y.device == "cuda"
    assert_close(y.numpy(), cpu.ref_conv2d(x, w, b, a["strides"], pads, a["dilation_rate"]), "conv")
    y2 = ops.conv2d(dev(x), dev(w), None, variant=variant, **a)  # no bias
    assert_close(y2.numpy(), cpu.ref_conv2d(x, w, None, a["strides"], pads, a["dilation_rate"]), "conv")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_data(rng, variant, shape):
    x, w, _, dy, pads, a = case(rng, shape)
    dx = nan_dev(x.shape)  # overwritten, never read
    ops.conv2d_backward_data(dev(dy), dev(w), x.shape, out=dx, variant=variant, **a)
    assert_close(dx.numpy(), cpu.ref_backward_data(dy, w, x.shape, a["strides"], pads, a["dilation_rate"]), "conv")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_weights_accumulates(rng, variant, shape):
    x, w, _, dy, pads, a = case(rng, shape)
    dw0 = rng.uniform(-1, 1, w.shape).astype(np.float32)
    db0 = rng.uniform(-1, 1, w.shape[3]).astype(np.float32)
    dw, db = dev(dw0), dev(db0)
    ops.conv2d_backward_weights(dw, db, dev(dy), dev(x), variant=variant, **a)
    ref_dw, ref_db = cpu.ref_backward_weights(dy, x, shape[5], a["strides"], pads, a["dilation_rate"])
    assert_close(dw.numpy(), dw0 + ref_dw, "conv")  # dw += ..., not dw = ...
    assert_close(db.numpy(), db0 + ref_db, "conv")
    ops.conv2d_backward_weights(dw, None, dev(dy), dev(x), variant=variant, **a)  # db=None: bias untouched
    assert_close(dw.numpy(), dw0 + 2 * ref_dw, "conv")
    assert_close(db.numpy(), db0 + ref_db, "conv")


@pytest.mark.parametrize("variant", VARIANTS)
def test_under_emulator_checks(rng, emulator_checks, variant):
    for shape in (SHAPES[2], SHAPES[6], SHAPES[7], SHAPES[-1]):  # strided, asymmetric, 2 column tiles, K split
        x, w, b, dy, pads, a = case(rng, shape)
        y = ops.conv2d(dev(x), dev(w), dev(b), variant=variant, **a)
        assert_close(y.numpy(), cpu.ref_conv2d(x, w, b, a["strides"], pads, a["dilation_rate"]), "conv")
        dx = ops.conv2d_backward_data(dev(dy), dev(w), x.shape, variant=variant, **a)
        assert_close(dx.numpy(), cpu.ref_backward_data(dy, w, x.shape, a["strides"], pads, a["dilation_rate"]), "conv")
        dw, db = dev(np.zeros(w.shape)), dev(np.zeros(w.shape[3]))
        ops.conv2d_backward_weights(dw, db, dev(dy), dev(x), variant=variant, **a)
        ref_dw, ref_db = cpu.ref_backward_weights(dy, x, shape[5], a["strides"], pads, a["dilation_rate"])
        assert_close(dw.numpy(), ref_dw, "conv")
        assert_close(db.numpy(), ref_db, "conv")


def test_weight_gradient_is_deterministic(rng):
    """The K split sums its partial products in a fixed order: the same bits on every call."""
    x, w, _, dy, _, a = case(rng, SHAPES[-1])
    runs = []
    for _ in range(2):
        dw = dev(np.zeros(w.shape))
        ops.conv2d_backward_weights(dw, None, dev(dy), dev(x), **a)
        runs.append(dw.numpy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_matches_cpu_backend(rng):
    """The same op on 'cpu' and 'cuda' agrees (both checked against NumPy above)."""
    x, w, b, dy, _, a = case(rng, SHAPES[2])
    assert_close(ops.conv2d(dev(x), dev(w), dev(b), **a).numpy(),
                 ops.conv2d(x, w, b, **a).astype(np.float64), "conv")


def test_empty_channels_give_the_bias():
    b = np.arange(4, dtype=np.float32)
    y = ops.conv2d(dev(np.zeros((2, 5, 5, 0))), dev(np.zeros((3, 3, 0, 4))), dev(b), padding="same")
    np.testing.assert_array_equal(y.numpy(), np.broadcast_to(b, (2, 5, 5, 4)))
    dx = nan_dev((2, 5, 5, 2))
    ops.conv2d_backward_data(dev(np.zeros((2, 5, 5, 0))), dev(np.zeros((3, 3, 2, 0))), (2, 5, 5, 2),
                             padding="same", out=dx)
    np.testing.assert_array_equal(dx.numpy(), np.zeros((2, 5, 5, 2), np.float32))


def test_bad_input():
    x, w = dev(np.zeros((2, 5, 6, 3))), dev(np.zeros((3, 3, 3, 4)))
    with pytest.raises(ValueError, match="3 channels .* kernel expects 2"):
        ops.conv2d(x, dev(np.zeros((3, 3, 2, 4))))
    with pytest.raises(ValueError, match="larger than the padded input"):
        ops.conv2d(x, dev(np.zeros((7, 3, 3, 4))))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        ops.conv2d(x, w, dev(np.zeros(3)))
    with pytest.raises(ValueError, match="unknown conv2d_forward variant 'im2col_gemm': choose one of naive, "
                                         "smem_tiled"):
        ops.conv2d(x, w, variant="im2col_gemm")
    with pytest.raises(ValueError, match="unknown conv2d_backward_weights variant 'fast'"):
        ops.conv2d_backward_weights(dev(np.zeros((3, 3, 3, 4))), None, dev(np.zeros((2, 3, 4, 4))), x,
                                    variant="fast")
    with pytest.raises(ValueError, match=r"dy must have the conv output's shape \(2, 3, 4, 4\)"):
        ops.conv2d_backward_data(dev(np.zeros((2, 3, 3, 4))), w, (2, 5, 6, 3))
    # a CPU tensor mixed into a CUDA call is refused by the binding, naming the argument
    with pytest.raises(ValueError, match="w"):
        ops.conv2d(x, np.zeros((3, 3, 3, 4), np.float32))
    with pytest.raises(TypeError, match="float32"):
        ops.conv2d(nk.tensor(np.zeros((2, 5, 6, 3), np.int64), device="cuda"), w)


def test_bad_input_reaching_the_binding():
    """The C++ checks hold on their own (explicit pads, no Python validation in front)."""
    m = cuda_module()
    x, w, y = dev(np.zeros((1, 5, 5, 2))), dev(np.zeros((3, 3, 2, 4))), nan_dev((1, 3, 3, 4))
    with pytest.raises(ValueError, match="strides must be positive"):
        m.conv2d_forward(y, x, w, None, (0, 1), (0, 0, 0, 0), (1, 1))
    with pytest.raises(ValueError, match="dilation_rate must be positive"):
        m.conv2d_forward(y, x, w, None, (1, 1), (0, 0, 0, 0), (1, -2))
    with pytest.raises(ValueError, match="padding must be >= 0"):
        m.conv2d_forward(y, x, w, None, (1, 1), (0, -1, 0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"y must have shape \(1, 3, 3, 4\)"):
        m.conv2d_forward(nan_dev((1, 5, 5, 4)), x, w, None, (1, 1), (0, 0, 0, 0), (1, 1))
    with pytest.raises(ValueError, match="must not share memory"):
        m.conv2d_forward(x, x, dev(np.zeros((1, 1, 2, 2))), None, (1, 1), (0, 0, 0, 0), (1, 1))
