"""conv2d_transpose (Keras Conv2DTranspose: kernel (KH, KW, F, C), NHWC) and its gradients.

The transposed conv runs conv2d's kernels with roles swapped (forward = conv2d_backward_data,
backward-data = conv2d_forward, backward-weights = conv2d_backward_weights with x and dy exchanged),
so every conv2d variant is exercised here too. Output size: Keras's rule; padding: TensorFlow's
(the pads of the conv2d from the output back to the input).
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core, ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

_RANK = {"scalar": 0, "avx2": 1, "avx512": 2}
# (isa, variant) pairs this CPU can run, per conv2d table the transposed op reuses
RUNNABLE = {op: [(isa, name) for isa in ops.available_isas() for name, need, _ in table
                 if _RANK[need] <= _RANK[isa]]
            for op, table in _core.conv2d_variants().items()}


def _ids(pair):
    return f"{pair[0]}-{pair[1]}"


def _with_isa(request):
    isa, name = request.param
    prev = ops.set_isa(isa)
    try:
        yield name
    finally:
        ops.set_isa(prev)


@pytest.fixture(params=RUNNABLE["backward_data"], ids=_ids)
def fwd_variant(request):
    """The transposed conv's forward runs conv2d_backward_data's table."""
    yield from _with_isa(request)


@pytest.fixture(params=RUNNABLE["forward"], ids=_ids)
def data_variant(request):
    """Its data gradient runs conv2d_forward's table."""
    yield from _with_isa(request)


@pytest.fixture(params=RUNNABLE["backward_weights"], ids=_ids)
def weights_variant(request):
    yield from _with_isa(request)


def keras_out_len(size, k, s, d, padding, output_padding):
    """keras.src.utils.conv_utils.deconv_output_length, transcribed."""
    k = k + (k - 1) * (d - 1)
    if output_padding is None:
        return size * s + max(k - s, 0) if padding == "valid" else size * s
    pad = k // 2 if padding == "same" else 0
    return (size - 1) * s + k - 2 * pad + output_padding


def tf_pads(out, k, s, d, padding):
    """TF conv2d_transpose pads: those of the conv2d from `out` back to the input."""
    if padding == "valid":
        return 0, 0
    total = max((-(-out // s) - 1) * s + (k - 1) * d + 1 - out, 0)
    return total // 2, total - total // 2


def geometry(x_shape, k_hw, strides, padding, output_padding, dil):
    """(OH, OW), (pt, pl) and the size of the uncropped output grid."""
    n, h, wd, _ = x_shape
    op = (None, None) if output_padding is None else output_padding
    oh = keras_out_len(h, k_hw[0], strides[0], dil[0], padding, op[0])
    ow = keras_out_len(wd, k_hw[1], strides[1], dil[1], padding, op[1])
    pt, _ = tf_pads(oh, k_hw[0], strides[0], dil[0], padding)
    pl, _ = tf_pads(ow, k_hw[1], strides[1], dil[1], padding)
    full_h = max((h - 1) * strides[0] + (k_hw[0] - 1) * dil[0] + 1, pt + oh)
    full_w = max((wd - 1) * strides[1] + (k_hw[1] - 1) * dil[1] + 1, pl + ow)
    return (oh, ow), (pt, pl), (full_h, full_w)


def tap(a, c, h, wd, strides, dil):
    """Output positions that input pixel (i, j) reaches through kernel tap (a, c), for all i, j."""
    return (slice(None), slice(a * dil[0], a * dil[0] + (h - 1) * strides[0] + 1, strides[0]),
            slice(c * dil[1], c * dil[1] + (wd - 1) * strides[1] + 1, strides[1]), slice(None))


def ref_conv2d_transpose(x, w, b, strides, padding, output_padding, dil):
    """Plain scatter: input pixel (i, j) adds x[n,i,j,:] @ w[kh,kw].T at (i*s + kh*d, j*s + kw*d) of an
    uncropped grid, then the Keras/TF window (pt, pl, OH, OW) is cut out of it."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, h, wd, _ = x.shape
    (oh, ow), (pt, pl), full = geometry(x.shape, w.shape[:2], strides, padding, output_padding, dil)
    yp = np.zeros((n,) + full + (w.shape[2],))
    for a in range(w.shape[0]):
        for c in range(w.shape[1]):
            yp[tap(a, c, h, wd, strides, dil)] += x @ w[a, c].T
    y = yp[:, pt:pt + oh, pl:pl + ow, :]
    return y + (0.0 if b is None else np.asarray(b, np.float64))


def ref_weight_grad(dy, x, k_hw, strides, padding, output_padding, dil):
    """dw[kh, kw] = sum over input pixels of dy at the position they reach (outer product with x)."""
    dy, x = np.asarray(dy, np.float64), np.asarray(x, np.float64)
    n, h, wd, c_in = x.shape
    (oh, ow), (pt, pl), full = geometry(x.shape, k_hw, strides, padding, output_padding, dil)
    dyp = np.zeros((n,) + full + (dy.shape[3],))
    dyp[:, pt:pt + oh, pl:pl + ow, :] = dy
    dw = np.zeros(k_hw + (dy.shape[3], c_in))
    for a in range(k_hw[0]):
        for c in range(k_hw[1]):
            dw[a, c] = dyp[tap(a, c, h, wd, strides, dil)].reshape(-1, dy.shape[3]).T @ x.reshape(-1, c_in)
    return dw


# (N, H, W, C_in, F_out, (KH, KW), strides, padding, output_padding, dilation)
SHAPES = [
    (1, 4, 5, 3, 2, (3, 3), (2, 2), "same", None, (1, 1)),
    (2, 3, 3, 2, 4, (3, 3), (2, 2), "valid", None, (1, 1)),
    (1, 5, 4, 1, 3, (2, 2), (2, 2), "same", None, (1, 1)),
    (2, 4, 4, 3, 1, (4, 4), (2, 2), "same", None, (1, 1)),
    (1, 3, 4, 2, 3, (1, 1), (3, 3), "valid", None, (1, 1)),    # kernel < stride: gaps of zeros
    (1, 4, 3, 2, 2, (3, 3), (2, 2), "same", (1, 1), (1, 1)),
    (2, 3, 5, 3, 2, (3, 2), (3, 2), "valid", (2, 1), (1, 1)),
    (1, 6, 5, 2, 3, (3, 3), (1, 1), "same", None, (2, 2)),
    (1, 5, 5, 3, 3, (5, 5), (1, 1), "valid", None, (1, 1)),
    (4, 14, 15, 16, 8, (3, 3), (2, 2), "same", None, (1, 1)),   # several chunks and threads
]
IDS = [f"{s[1]}x{s[2]}x{s[3]}-{s[4]}_k{s[5][0]}{s[5][1]}_s{s[6][0]}{s[6][1]}_{s[7]}_op{s[8]}_d{s[9][0]}"
       for s in SHAPES]


def case(rng, shape):
    n, h, w, c, f, k, strides, padding, op, dil = shape
    x = rng.uniform(-1, 1, (n, h, w, c)).astype(np.float32)
    wt = rng.uniform(-1, 1, k + (f, c)).astype(np.float32)
    b = rng.uniform(-1, 1, f).astype(np.float32)
    y = ref_conv2d_transpose(x, wt, b, strides, padding, op, dil)
    dy = rng.uniform(-1, 1, y.shape).astype(np.float32)
    return x, wt, b, dy, y


def args(shape):
    return dict(strides=shape[6], padding=shape[7], output_padding=shape[8], dilation_rate=shape[9])


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_forward(fwd_variant, rng, shape):
    variant = fwd_variant
    x, w, b, _, expected = case(rng, shape)
    y = nan_tensor(expected.shape)
    ops.conv2d_transpose(nk.tensor(x), nk.tensor(w), nk.tensor(b), out=y, variant=variant, **args(shape))
    assert_close(y.numpy(), expected, "conv")


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_data(data_variant, rng, shape):
    variant = data_variant
    x, w, b, dy, _ = case(rng, shape)
    a = args(shape)
    dx = nan_tensor(x.shape)
    ops.conv2d_transpose_backward_data(nk.tensor(dy), nk.tensor(w), x.shape, out=dx, variant=variant, **a)
    # the forward is linear in x: d(sum y*dy)/dx[i] = sum over the basis image e_i
    def f(v):
        return ref_conv2d_transpose(v, w, None, a["strides"], a["padding"], a["output_padding"],
                                    a["dilation_rate"])
    expected = numeric_grad(f, x, h=0.5, dy=dy) if x.size <= 200 else None
    if expected is not None:
        assert_close(dx.numpy(), expected, "conv")
    # and always against conv2d's forward, which is the transposed conv's data gradient
    pads = _pads_of(shape, dy.shape)
    conv = ops.conv2d(dy, w, None, a["strides"], pads, a["dilation_rate"], variant=variant)
    np.testing.assert_array_equal(dx.numpy(), conv)


def _pads_of(shape, out_shape):
    _, _, _, _, _, k, strides, padding, _, dil = shape
    return (tf_pads(out_shape[1], k[0], strides[0], dil[0], padding),
            tf_pads(out_shape[2], k[1], strides[1], dil[1], padding))


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_backward_weights_accumulates(weights_variant, rng, shape):
    variant = weights_variant
    x, w, b, dy, _ = case(rng, shape)
    a = args(shape)
    gw = ref_weight_grad(dy, x, shape[5], a["strides"], a["padding"], a["output_padding"], a["dilation_rate"])
    dw0 = rng.uniform(-1, 1, w.shape).astype(np.float32)
    db0 = rng.uniform(-1, 1, b.shape).astype(np.float32)
    dw, db = nk.tensor(dw0.copy()), nk.tensor(db0.copy())
    ops.conv2d_transpose_backward_weights(dw, db, nk.tensor(dy), nk.tensor(x), variant=variant, **a)
    assert_close(dw.numpy(), dw0 + gw, "conv")
    assert_close(db.numpy(), db0 + dy.astype(np.float64).sum(axis=(0, 1, 2)), "conv")
    ops.conv2d_transpose_backward_weights(dw, None, dy, x, variant=variant, **a)
    assert_close(dw.numpy(), dw0 + 2 * gw, "conv")


@pytest.mark.parametrize("shape", SHAPES[:4], ids=IDS[:4])
def test_gradients_by_finite_differences(rng, shape):
    x, w, b, dy, _ = case(rng, shape)
    a = args(shape)
    r = (a["strides"], a["padding"], a["output_padding"], a["dilation_rate"])
    gx = numeric_grad(lambda v: ref_conv2d_transpose(v, w, b, *r), x, dy=dy)
    gw = numeric_grad(lambda v: ref_conv2d_transpose(x, v, b, *r), w, dy=dy)
    gb = numeric_grad(lambda v: ref_conv2d_transpose(x, w, v, *r), b, dy=dy)
    dx = ops.conv2d_transpose_backward_data(dy, w, x.shape, **a)
    dw, db = nk.zeros(w.shape), nk.zeros(b.shape)
    ops.conv2d_transpose_backward_weights(dw, db, dy, x, **a)
    assert_close(dx, gx, "conv")
    assert_close(dw.numpy(), gw, "conv")
    assert_close(db.numpy(), gb, "conv")
    assert_close(ref_weight_grad(dy, x, shape[5], *r), gw, "grad_fd", dtype=np.float64)


def test_forward_is_conv2d_backward_data(rng):
    """Shared code, not a copy: bit-identical to conv2d_backward_data plus the bias."""
    shape = SHAPES[-1]
    x, w, _, _, y = case(rng, shape)
    out = ops.conv2d_transpose(x, w, None, **args(shape))
    same = ops.conv2d_backward_data(x, w, y.shape, shape[6], _pads_of(shape, y.shape), shape[9])
    np.testing.assert_array_equal(out, same)


@pytest.mark.parametrize("shape", [SHAPES[i] for i in (0, 1, 3, 4, 5, 6, 7)])
def test_matches_torch(rng, shape):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w, b, dy, _ = case(rng, shape)
    a = args(shape)
    tx = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2).requires_grad_()
    tw = torch.tensor(w, dtype=torch.float64).permute(3, 2, 0, 1).requires_grad_()  # (C_in, F_out, KH, KW)
    tb = torch.tensor(b, dtype=torch.float64).requires_grad_()
    full = F.conv_transpose2d(tx, tw, None, stride=a["strides"], dilation=a["dilation_rate"])
    (pt, _), (pl, _) = _pads_of(shape, dy.shape)
    oh, ow = dy.shape[1:3]
    # crop the Keras/TF window out of the unpadded result (zero-extended where output_padding reaches past it)
    full = F.pad(full, (0, max(0, pl + ow - full.shape[3]), 0, max(0, pt + oh - full.shape[2])))
    ty = full[:, :, pt:pt + oh, pl:pl + ow] + tb[None, :, None, None]
    ty.backward(torch.tensor(dy, dtype=torch.float64).permute(0, 3, 1, 2))

    y = ops.conv2d_transpose(x, w, b, **a)
    dx = ops.conv2d_transpose_backward_data(dy, w, x.shape, **a)
    dw, db = nk.zeros(w.shape), nk.zeros(b.shape)
    ops.conv2d_transpose_backward_weights(dw, db, dy, x, **a)
    assert_close(y, ty.detach().permute(0, 2, 3, 1).numpy(), "conv")
    assert_close(dx, tx.grad.permute(0, 2, 3, 1).numpy(), "conv")
    assert_close(dw.numpy(), tw.grad.permute(2, 3, 1, 0).numpy(), "conv")
    assert_close(db.numpy(), tb.grad.numpy(), "conv")


@pytest.mark.parametrize("size,k,s,d,padding,op,expected", [
    (4, 3, 2, 1, "same", None, 8),
    (4, 3, 2, 1, "valid", None, 9),
    (4, 2, 2, 1, "valid", None, 8),
    (4, 1, 3, 1, "valid", None, 12),
    (4, 3, 2, 1, "same", 1, 8),
    (4, 3, 2, 1, "valid", 1, 10),
    (5, 3, 1, 2, "same", None, 5),
    (5, 3, 1, 2, "valid", None, 9),
])
def test_output_size_follows_keras(size, k, s, d, padding, op, expected):
    out, before, after = ops.conv_transpose_output_size(size, k, s, d, padding, op)
    assert out == expected == keras_out_len(size, k, s, d, padding, op)
    assert (before, after) == tf_pads(out, k, s, d, padding)


def test_bad_input():
    x = np.zeros((2, 4, 5, 3), np.float32)
    w = np.zeros((3, 3, 2, 3), np.float32)
    with pytest.raises(ValueError, match="output_padding must be an int in"):
        ops.conv2d_transpose(x, w, strides=2, padding="same", output_padding=2)
    with pytest.raises(ValueError, match="output_padding"):
        ops.conv2d_transpose(x, np.zeros((2, 2, 2, 3), np.float32), padding="same", output_padding=0)
    with pytest.raises(ValueError, match="3 channels .* kernel expects 4"):
        ops.conv2d_transpose(x, np.zeros((3, 3, 2, 4), np.float32))
    with pytest.raises(ValueError, match="strides must be"):
        ops.conv2d_transpose(x, w, strides=0)
    with pytest.raises(ValueError, match="x must be 4-d"):
        ops.conv2d_transpose(x[0], w)
    with pytest.raises(TypeError, match="float32"):
        ops.conv2d_transpose(x, nk.tensor(np.zeros((3, 3, 2, 3), np.int64)))
    with pytest.raises(ValueError, match=r"dy must have the output's shape \(2, 8, 10, 2\)"):
        ops.conv2d_transpose_backward_data(np.zeros((2, 8, 9, 2), np.float32), w, x.shape, strides=2,
                                           padding="same")
    with pytest.raises(ValueError, match=r"dy must have the output's shape \(2, 6, 7, 2\)"):
        ops.conv2d_transpose_backward_weights(nk.zeros(w.shape), None, np.zeros((2, 6, 6, 2), np.float32), x)
