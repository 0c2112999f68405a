"""conv2d forward / backward-data / backward-weights (csrc/cpu/conv.cpp): every registered variant on
every ISA vs float64 NumPy loops, finite differences, the accumulate rule, PyTorch, and bad input.

NHWC activations, Keras kernels (KH, KW, C, F); 'same' is Keras/TF's rule (extra padding after).
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core, ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

_RANK = {"scalar": 0, "avx2": 1, "avx512": 2}
# (isa, variant) pairs this CPU can run, per op: every variant on every ISA at or above the one it needs
RUNNABLE = {op: [(isa, name) for isa in ops.available_isas() for name, need, _ in table
                 if _RANK[need] <= _RANK[isa]]
            for op, table in _core.conv2d_variants().items()}


def _with_isa(request):
    isa, name = request.param
    prev = ops.set_isa(isa)
    try:
        yield name
    finally:
        ops.set_isa(prev)


# ------------------------------------------------------------------------------------------------
# float64 references, written plainly: pad, then one slice-and-matmul per kernel tap
# ------------------------------------------------------------------------------------------------

def same_pads(size, k, s, d):
    """Keras/TF 'same': out = ceil(size / s), total = max((out-1)*s + (k-1)*d + 1 - size, 0)."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def explicit_pads(x_hw, k_hw, strides, padding, dil):
    """(top, bottom, left, right) for the padding forms the tests use."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        return same_pads(x_hw[0], k_hw[0], strides[0], dil[0]) + same_pads(x_hw[1], k_hw[1], strides[1], dil[1])
    if isinstance(padding, int):
        return (padding,) * 4
    (t, b), (left, r) = padding
    return (t, b, left, r)


def out_len(size, k, s, d, before, after):
    return (size + before + after - (k - 1) * d - 1) // s + 1


def tap_slices(i, j, oh, ow, strides, dil):
    sh, sw = strides
    dh, dw = dil
    return (slice(None), slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (ow - 1) * sw + 1, sw), slice(None))


def ref_conv2d(x, w, b, strides, pads, dil):
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    pt, pb, pl, pr = pads
    oh, ow = out_len(h, kh, strides[0], dil[0], pt, pb), out_len(wd, kw, strides[1], dil[1], pl, pr)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    y = np.zeros((n, oh, ow, f))
    for i in range(kh):
        for j in range(kw):
            y += xp[tap_slices(i, j, oh, ow, strides, dil)] @ w[i, j]
    return y + (0.0 if b is None else np.asarray(b, np.float64))


def ref_backward_data(dy, w, x_shape, strides, pads, dil):
    dy, w = np.asarray(dy, np.float64), np.asarray(w, np.float64)
    n, h, wd, c = x_shape
    pt, pb, pl, pr = pads
    oh, ow = dy.shape[1:3]
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            dxp[tap_slices(i, j, oh, ow, strides, dil)] += dy @ w[i, j].T
    return dxp[:, pt:pt + h, pl:pl + wd, :]


def ref_backward_weights(dy, x, k_hw, strides, pads, dil):
    dy, x = np.asarray(dy, np.float64), np.asarray(x, np.float64)
    pt, pb, pl, pr = pads
    oh, ow, f = dy.shape[1:]
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    dw = np.zeros(k_hw + (x.shape[3], f))
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            patch = xp[tap_slices(i, j, oh, ow, strides, dil)]
            dw[i, j] = patch.reshape(-1, x.shape[3]).T @ dy.reshape(-1, f)
    return dw, dy.sum(axis=(0, 1, 2))


# (N, H, W, C, F, (KH, KW), strides, padding, dilation): batch 1, odd sizes, C = 1 and 3, kernels
# 1/2/3/4/5/7, strides 2 and 3, 'same' with even kernels and strides, dilation 2, kernel == input with
# 'valid', explicit and asymmetric padding, filter counts that hit every register tile of
# direct_avx512 with masked tails (6, 16, 33, 40, 70), shapes big enough to run several chunks on
# several threads, and the lane-packed small-filter shapes (the last three).
SHAPES = [
    (1, 7, 9, 3, 5, (3, 3), (1, 1), "same", (1, 1)),
    (2, 11, 13, 1, 6, (5, 5), (1, 1), "same", (1, 1)),
    (2, 9, 7, 3, 4, (3, 3), (2, 2), "same", (1, 1)),
    (1, 10, 11, 2, 3, (2, 2), (1, 1), "same", (1, 1)),
    (2, 9, 10, 3, 5, (4, 4), (2, 2), "same", (1, 1)),
    (1, 13, 12, 4, 3, (3, 3), (3, 3), "valid", (1, 1)),
    (2, 12, 11, 3, 7, (3, 3), (1, 1), "same", (2, 2)),
    (1, 11, 9, 2, 3, (7, 7), (1, 2), "same", (1, 1)),
    (3, 5, 5, 3, 2, (5, 5), (1, 1), "valid", (1, 1)),
    (2, 6, 7, 5, 9, (1, 1), (1, 1), "valid", (1, 1)),
    (2, 7, 7, 5, 4, (1, 1), (2, 2), "valid", (1, 1)),
    (1, 8, 9, 3, 4, (3, 2), (2, 1), ((1, 2), (0, 3)), (1, 2)),
    (1, 6, 6, 17, 33, (3, 3), (1, 1), 1, (1, 1)),
    (2, 9, 11, 3, 70, (3, 3), (1, 1), "same", (1, 1)),
    (1, 8, 30, 2, 40, (3, 3), (2, 1), "valid", (1, 1)),
    (1, 9, 10, 20, 18, (3, 2), (1, 1), "same", (2, 2)),    # direct_avx512 backward-data: C >= 16
    (4, 30, 31, 16, 24, (3, 3), (1, 1), "same", (1, 1)),
    (2, 40, 37, 8, 16, (5, 5), (2, 2), "same", (1, 1)),
    (2, 30, 30, 4, 8, (7, 7), (1, 1), "same", (2, 2)),
    # direct_avx512's lane-packed path (F < 16, C <= 8, horizontal stride 1): LeNet conv1 on several
    # chunks and threads, 12 filters (a 3-vector lane pattern) from 8 channels, one filter at stride (2, 1)
    (3, 28, 28, 1, 6, (5, 5), (1, 1), "same", (1, 1)),
    (2, 9, 20, 8, 12, (3, 3), (1, 1), "same", (1, 1)),
    (1, 7, 33, 2, 1, (3, 3), (2, 1), "same", (1, 1)),
    # direct_avx512's one-filter path (F = 1, C >= 16, vectorised along channels): a DCGAN output layer
    # (7x7 'same' from many channels), channel tails (C = 33), stride 2, dilation, 'valid', row tails
    (2, 9, 11, 128, 1, (7, 7), (1, 1), "same", (1, 1)),
    (1, 10, 13, 33, 1, (3, 3), (2, 2), "same", (1, 1)),
    (2, 8, 9, 16, 1, (3, 2), (1, 1), "same", (2, 2)),
    (1, 6, 19, 20, 1, (5, 3), (1, 3), "valid", (1, 1)),
]
IDS = [f"{s[0]}x{s[1]}x{s[2]}x{s[3]}-{s[4]}_k{s[5][0]}{s[5][1]}_s{s[6][0]}{s[6][1]}_{s[7]}_d{s[8][0]}"
       for s in SHAPES]


def case(rng, shape):
    n, h, w, c, f, k, strides, padding, dil = shape
    x = rng.uniform(-1, 1, (n, h, w, c)).astype(np.float32)
    wt = rng.uniform(-1, 1, k + (c, f)).astype(np.float32)
    b = rng.uniform(-1, 1, f).astype(np.float32)
    pads = explicit_pads((h, w), k, strides, padding, dil)
    oh, ow = out_len(h, k[0], strides[0], dil[0], pads[0], pads[1]), out_len(w, k[1], strides[1], dil[1], pads[2], pads[3])
    dy = rng.uniform(-1, 1, (n, oh, ow, f)).astype(np.float32)
    return x, wt, b, dy, pads


def _ids(pair):
    return f"{pair[0]}-{pair[1]}"


@pytest.fixture(params=RUNNABLE["forward"], ids=_ids)
def fwd_variant(request):
    yield from _with_isa(request)


@pytest.fixture(params=RUNNABLE["backward_data"], ids=_ids)
def data_variant(request):
    yield from _with_isa(request)


@pytest.fixture(params=RUNNABLE["backward_weights"], ids=_ids)
def weights_variant(request):
    yield from _with_isa(request)


def test_registry():
    tables = _core.conv2d_variants()
    assert set(tables) == {"forward", "backward_data", "backward_weights"}
    for op, table in tables.items():
        assert [v[0] for v in table][:2] == ["naive", "im2col_gemm"]
        assert all(pair[1] in [v[0] for v in table] for pair in RUNNABLE[op])
        for name, isa, desc in table:
            assert isa in ops.available_isas() or isa in ("avx2", "avx512"), (name, isa)
            assert len(desc) > 10
    assert ops.conv2d_variants() == tables


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_forward(fwd_variant, rng, shape):
    x, w, b, _, pads = case(rng, shape)
    strides, padding, dil = shape[6], shape[7], shape[8]
    expected = ref_conv2d(x, w, b, strides, pads, dil)
    y = nan_tensor(expected.shape)
    out = ops.conv2d(nk.tensor(x), nk.tensor(w), nk.tensor(b), strides, padding, dil, out=y, variant=fwd_variant)
    assert out is y
    assert_close(y.numpy(), expected, "conv")
    # without a bias, from NumPy, returning NumPy
    y2 = ops.conv2d(x, w, None, strides, padding, dil, variant=fwd_variant)
    assert isinstance(y2, np.ndarray)
    assert_close(y2, ref_conv2d(x, w, None, strides, pads, dil), "conv")


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_data(data_variant, rng, shape):
    x, w, _, dy, pads = case(rng, shape)
    strides, padding, dil = shape[6], shape[7], shape[8]
    dx = nan_tensor(x.shape)  # overwritten, never read
    ops.conv2d_backward_data(nk.tensor(dy), nk.tensor(w), x.shape, strides, padding, dil, out=dx,
                             variant=data_variant)
    assert_close(dx.numpy(), ref_backward_data(dy, w, x.shape, strides, pads, dil), "conv")


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_weights_accumulates(weights_variant, rng, shape):
    x, w, _, dy, pads = case(rng, shape)
    strides, padding, dil = shape[6], shape[7], shape[8]
    dw0 = rng.uniform(-1, 1, w.shape).astype(np.float32)
    db0 = rng.uniform(-1, 1, w.shape[3]).astype(np.float32)
    dw, db = nk.tensor(dw0.copy()), nk.tensor(db0.copy())
    ops.conv2d_backward_weights(dw, db, nk.tensor(dy), nk.tensor(x), strides, padding, dil,
                                variant=weights_variant)
    ref_dw, ref_db = ref_backward_weights(dy, x, shape[5], strides, pads, dil)
    assert_close(dw.numpy(), dw0 + ref_dw, "conv")   # dw += ..., not dw = ...
    assert_close(db.numpy(), db0 + ref_db, "conv")
    # a second call adds the same gradient again; db=None leaves the bias alone
    ops.conv2d_backward_weights(dw, None, dy, x, strides, padding, dil, variant=weights_variant)
    assert_close(dw.numpy(), dw0 + 2 * ref_dw, "conv")
    assert_close(db.numpy(), db0 + ref_db, "conv")


@pytest.mark.parametrize("variant", ["im2col_gemm", "auto"])
def test_result_does_not_depend_on_thread_count(rng, variant):
    """The forward sums each output pixel in one order whichever thread computes it, so any thread
    count gives the same bits. Backward-data's im2col_gemm cuts chunks by thread count (a dx element
    on a chunk border sums its two chunks in phase order), so it is bit-identical run to run at a
    given count and equal up to rounding across counts."""
    shape = SHAPES[16]
    x, w, b, dy, pads = case(rng, shape)
    prev = nk.get_num_threads()
    try:
        ys, dxs = [], []
        for threads in (1, 2, 3):
            nk.set_num_threads(threads)
            ys.append(ops.conv2d(x, w, b, padding="same", variant=variant))
            dxs.append(ops.conv2d_backward_data(dy, w, x.shape, padding="same", variant=variant))
            again = ops.conv2d_backward_data(dy, w, x.shape, padding="same", variant=variant)
            np.testing.assert_array_equal(again, dxs[-1])  # same threads: same bits
        for y, dx in zip(ys[1:], dxs[1:]):
            np.testing.assert_array_equal(y, ys[0])
            assert_close(dx, dxs[0].astype(np.float64), "conv")
        assert_close(ys[0], ref_conv2d(x, w, b, (1, 1), pads, (1, 1)), "conv")
    finally:
        nk.set_num_threads(prev)


# ------------------------------------------------------------------------------------------------
# finite differences of the float64 reference forward vs the kernels' gradients
# ------------------------------------------------------------------------------------------------

GRAD_SHAPES = [
    (1, 5, 6, 2, 3, (3, 3), (2, 2), "same", (1, 1)),
    (2, 4, 5, 1, 2, (2, 2), (1, 1), "same", (1, 1)),
    (1, 6, 5, 2, 2, (3, 2), (1, 1), "valid", (2, 1)),
    (1, 7, 7, 3, 2, (4, 3), (3, 2), "same", (1, 1)),
]


@pytest.mark.parametrize("shape", GRAD_SHAPES)
def test_gradients_by_finite_differences(isa, rng, shape):
    x, w, b, dy, pads = case(rng, shape)
    strides, padding, dil = shape[6], shape[7], shape[8]
    gx = numeric_grad(lambda v: ref_conv2d(v, w, b, strides, pads, dil), x, dy=dy)
    gw = numeric_grad(lambda v: ref_conv2d(x, v, b, strides, pads, dil), w, dy=dy)
    gb = numeric_grad(lambda v: ref_conv2d(x, w, v, strides, pads, dil), b, dy=dy)
    dx = ops.conv2d_backward_data(dy, w, x.shape, strides, padding, dil)
    dw, db = nk.zeros(w.shape), nk.zeros(b.shape)
    ops.conv2d_backward_weights(dw, db, dy, x, strides, padding, dil)
    assert_close(dx, gx, "conv")
    assert_close(dw.numpy(), gw, "conv")
    assert_close(db.numpy(), gb, "conv")
    # and the plain references themselves are the derivative of the forward
    assert_close(ref_backward_data(dy, w, x.shape, strides, pads, dil), gx, "grad_fd", dtype=np.float64)


# ------------------------------------------------------------------------------------------------
# PyTorch cross-check (NCHW, OIHW weights; asymmetric 'same' padding through an explicit F.pad)
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [SHAPES[i] for i in (0, 2, 4, 6, 7, 11, 14, 15, 16)])
def test_matches_torch(rng, shape):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w, b, dy, pads = case(rng, shape)
    strides, padding, dil = shape[6], shape[7], shape[8]
    tx = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2).requires_grad_()
    tw = torch.tensor(w, dtype=torch.float64).permute(3, 2, 0, 1).requires_grad_()
    tb = torch.tensor(b, dtype=torch.float64).requires_grad_()
    pt, pb, pl, pr = pads
    ty = F.conv2d(F.pad(tx, (pl, pr, pt, pb)), tw, tb, stride=strides, dilation=dil)
    ty.backward(torch.tensor(dy, dtype=torch.float64).permute(0, 3, 1, 2))

    y = ops.conv2d(x, w, b, strides, padding, dil)
    dx = ops.conv2d_backward_data(dy, w, x.shape, strides, padding, dil)
    dw, db = nk.zeros(w.shape), nk.zeros(b.shape)
    ops.conv2d_backward_weights(dw, db, dy, x, strides, padding, dil)
    assert_close(y, ty.detach().permute(0, 2, 3, 1).numpy(), "conv")
    assert_close(dx, tx.grad.permute(0, 2, 3, 1).numpy(), "conv")
    assert_close(dw.numpy(), tw.grad.permute(2, 3, 1, 0).numpy(), "conv")
    assert_close(db.numpy(), tb.grad.numpy(), "conv")


# ------------------------------------------------------------------------------------------------
# output sizes, empty shapes, bad input
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size,k,s,d,padding,expected", [
    (28, 5, 1, 1, "same", (28, 2, 2)),
    (10, 2, 1, 1, "same", (10, 0, 1)),      # even kernel: the extra pad goes after
    (9, 4, 2, 1, "same", (5, 1, 2)),
    (224, 3, 2, 1, "same", (112, 0, 1)),    # stride 2 on an even size: pad only after
    (7, 3, 2, 1, "same", (4, 1, 1)),
    (12, 3, 1, 2, "same", (12, 2, 2)),
    (14, 5, 1, 1, "valid", (10, 0, 0)),
    (13, 3, 3, 1, "valid", (4, 0, 0)),
    (5, 5, 1, 1, "valid", (1, 0, 0)),
    (6, 3, 1, 1, 2, (8, 2, 2)),
    (8, 3, 2, 1, (1, 2), (5, 1, 2)),
])
def test_conv_output_size(size, k, s, d, padding, expected):
    assert ops.conv_output_size(size, k, s, d, padding) == expected


def test_empty_batch_and_channels(rng):
    w = rng.uniform(-1, 1, (3, 3, 2, 4)).astype(np.float32)
    y = ops.conv2d(np.zeros((0, 5, 5, 2), np.float32), w, padding="same")
    assert y.shape == (0, 5, 5, 4)
    b = np.arange(4, dtype=np.float32)
    y = ops.conv2d(np.zeros((2, 5, 5, 0), np.float32), np.zeros((3, 3, 0, 4), np.float32), b, padding="same")
    np.testing.assert_array_equal(y, np.broadcast_to(b, (2, 5, 5, 4)))  # the empty sum is the bias
    dx = ops.conv2d_backward_data(np.zeros((2, 5, 5, 0), np.float32), np.zeros((3, 3, 2, 0), np.float32),
                                  (2, 5, 5, 2), padding="same")
    np.testing.assert_array_equal(dx, np.zeros((2, 5, 5, 2), np.float32))


def test_bad_input():
    x = np.zeros((2, 5, 6, 3), np.float32)
    w = np.zeros((3, 3, 3, 4), np.float32)
    with pytest.raises(ValueError, match="larger than the padded input"):
        ops.conv2d(x, np.zeros((7, 3, 3, 4), np.float32))
    with pytest.raises(ValueError, match="larger than the padded input"):
        ops.conv2d(x, w, dilation_rate=3)
    with pytest.raises(ValueError, match="3 channels .* kernel expects 2"):
        ops.conv2d(x, np.zeros((3, 3, 2, 4), np.float32))
    for bad in (0, -1, (1, 0), (2,), "2", 1.5):
        with pytest.raises(ValueError, match="strides must be"):
            ops.conv2d(x, w, strides=bad)
        with pytest.raises(ValueError, match="dilation_rate must be"):
            ops.conv2d(x, w, dilation_rate=bad)
    with pytest.raises(ValueError, match="padding must be"):
        ops.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="padding must be"):
        ops.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="x must be 4-d"):
        ops.conv2d(x[0], w)
    with pytest.raises(ValueError, match="w must be 4-d"):
        ops.conv2d(x, w[0])
    with pytest.raises(TypeError, match="float32"):
        ops.conv2d(nk.tensor(np.zeros((2, 5, 6, 3), np.int64)), w)
    with pytest.raises(TypeError, match="numeric"):
        ops.conv2d(np.zeros((2, 5, 6, 3), dtype="U1"), w)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        ops.conv2d(x, w, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="unknown conv2d_forward variant 'fast'"):
        ops.conv2d(x, w, variant="fast")
    with pytest.raises(ValueError, match=r"dy must have the conv output's shape \(2, 3, 4, 4\)"):
        ops.conv2d_backward_data(np.zeros((2, 3, 3, 4), np.float32), w, x.shape)
    with pytest.raises(ValueError, match="input_shape must be"):
        ops.conv2d_backward_data(np.zeros((2, 3, 4, 4), np.float32), w, (5, 6, 3))
    dw = nk.zeros(w.shape)
    with pytest.raises(ValueError, match=r"dy must have the conv output's shape \(2, 5, 6, 4\)"):
        ops.conv2d_backward_weights(dw, None, np.zeros((2, 3, 4, 4), np.float32), x, padding="same")
    with pytest.raises(ValueError, match="updates dw in place"):
        ops.conv2d_backward_weights(np.zeros(w.shape), None, np.zeros((2, 3, 4, 4), np.float32), x)
    with pytest.raises(ValueError, match=r"db must have shape \(4,\)"):
        ops.conv2d_backward_weights(dw, nk.zeros((3,)), np.zeros((2, 3, 4, 4), np.float32), x)


def test_bad_input_reaching_the_binding():
    """The C++ checks hold on their own (explicit pads, no Python validation in front)."""
    x, w = nk.zeros((1, 5, 5, 2)), nk.zeros((3, 3, 2, 4))
    y = nk.empty((1, 3, 3, 4))
    with pytest.raises(ValueError, match="strides must be positive"):
        _core.conv2d_forward(y, x, w, None, (0, 1), (0, 0, 0, 0), (1, 1))
    with pytest.raises(ValueError, match="dilation_rate must be positive"):
        _core.conv2d_forward(y, x, w, None, (1, 1), (0, 0, 0, 0), (1, -2))
    with pytest.raises(ValueError, match="padding must be >= 0"):
        _core.conv2d_forward(y, x, w, None, (1, 1), (0, -1, 0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"y must have shape \(1, 3, 3, 4\)"):
        _core.conv2d_forward(nk.empty((1, 5, 5, 4)), x, w, None, (1, 1), (0, 0, 0, 0), (1, 1))
    with pytest.raises(ValueError, match="must not share memory"):
        _core.conv2d_forward(x, x, nk.zeros((1, 1, 2, 2)), None, (1, 1), (0, 0, 0, 0), (1, 1))
